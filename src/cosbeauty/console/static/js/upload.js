// Uploads: one PUT for small files, multipart (parallel parts) above MULTIPART_THRESHOLD.
// Progress comes from XHR upload events, summed across parts.

import { h, icon, formatBytes, errorText } from "./ui.js";

export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
export const PART_SIZE = 8 * 1024 * 1024;
const PART_CONCURRENCY = 3;

export async function uploadFile(client, bucket, key, file, { onProgress = () => {}, signal } = {}) {
  const type = file.type || "application/octet-stream";
  if (file.size <= MULTIPART_THRESHOLD) {
    await client.putObject(bucket, key, file, { contentType: type, signal,
      onUploadProgress: (loaded) => onProgress(Math.min(loaded, file.size), file.size) });
    onProgress(file.size, file.size);
    return { multipart: false };
  }
  const uploadId = await client.initMultipart(bucket, key, type);
  const count = Math.ceil(file.size / PART_SIZE);
  const loaded = new Array(count).fill(0);
  const etags = new Array(count);
  const report = () => onProgress(loaded.reduce((a, b) => a + b, 0), file.size);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const blob = file.slice(i * PART_SIZE, Math.min(file.size, (i + 1) * PART_SIZE));
      etags[i] = await client.uploadPart(bucket, key, uploadId, i + 1, blob,
        (l) => { loaded[i] = Math.min(l, blob.size); report(); }, signal);
      loaded[i] = blob.size;
      report();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, count) }, worker));
    await client.completeMultipart(bucket, key, uploadId, etags.map((etag, i) => ({ partNumber: i + 1, etag })));
  } catch (err) {
    client.abortMultipart(bucket, key, uploadId).catch(() => {});
    throw err;
  }
  return { multipart: true, parts: count };
}

/** The floating panel that lists running and finished uploads. */
export class UploadPanel {
  constructor() {
    this.list = h("div.upload-list");
    this.title = h("span.upload-title", "Uploads");
    this.el = h("div.upload-panel#upload-panel", { hidden: true },
      h("div.upload-head", icon("upload"), this.title,
        h("button.icon-btn", { type: "button", title: "Hide", on: { click: () => { this.el.hidden = true; } } }, icon("x"))),
      this.list);
    document.body.append(this.el);
    this.active = 0;
  }

  add(name, size) {
    this.el.hidden = false;
    this.active++;
    this._title();
    const bar = h("div.progress-bar");
    const status = h("span.upload-status", "Waiting…");
    const row = h("div.upload-row", { dataset: { name } },
      h("div.upload-name", h("span.ellipsis", { title: name }, name), h("span.muted", formatBytes(size))),
      h("div.progress", bar), status);
    this.list.prepend(row);
    return {
      progress: (loaded, total) => {
        const pct = total ? Math.round((loaded / total) * 100) : 0;
        bar.style.width = `${pct}%`;
        status.textContent = `${pct}% · ${formatBytes(loaded)} of ${formatBytes(total)}`;
      },
      done: (info) => {
        bar.style.width = "100%";
        row.classList.add("done");
        status.replaceChildren(icon("check"), h("span", info && info.multipart ? `Uploaded (${info.parts} parts)` : "Uploaded"));
        this.active--;
        this._title();
      },
      fail: (err) => {
        row.classList.add("failed");
        status.replaceChildren(icon("alert"), h("span", errorText(err)));
        this.active--;
        this._title();
      },
    };
  }

  _title() {
    this.title.textContent = this.active ? `Uploading ${this.active} file${this.active > 1 ? "s" : ""}…` : "Uploads complete";
  }

  destroy() { this.el.remove(); }
}
