// Uploads: one PUT for small files, multipart (parallel parts) above MULTIPART_THRESHOLD.
// Progress comes from XHR upload events, summed across parts.

import { h, icon, formatBytes, errorBlock } from "./ui.js";

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

/** The floating panel that lists running and finished uploads. It says how many failed (a failed
 *  upload is never counted as complete), hides itself a few seconds after everything succeeded,
 *  and, while shown, pads the page so it does not cover the last rows' buttons. */
const AUTO_HIDE_MS = 3000;
let sharedPanel = null;

export class UploadPanel {
  static shared() {
    if (!sharedPanel || !sharedPanel.el.isConnected) sharedPanel = new UploadPanel();
    return sharedPanel;
  }

  constructor() {
    this.list = h("div.upload-list");
    this.title = h("span.upload-title#upload-title", { "aria-live": "polite" }, "Uploads");
    this.el = h("section.upload-panel#upload-panel", { hidden: true, "aria-label": "Uploads" },
      h("div.upload-head", icon("upload"), this.title,
        h("button.icon-btn#upload-panel-close", { type: "button", title: "Hide", "aria-label": "Hide uploads",
          on: { click: () => this.hide() } }, icon("x"))),
      this.list);
    document.body.append(this.el);
    this.active = 0;
    this.ok = 0;
    this.failed = 0;
    this.timer = null;
    this.resize = new ResizeObserver(() => this._pad());
    this.resize.observe(this.el);
  }

  show() {
    clearTimeout(this.timer);
    this.el.hidden = false;
    this._pad();
  }

  hide() {
    clearTimeout(this.timer);
    this.el.hidden = true;
    this.list.replaceChildren();
    this.ok = this.failed = 0;
    this._pad();
  }

  _pad() {
    const h = this.el.hidden ? 0 : this.el.offsetHeight + 24;
    document.documentElement.style.setProperty("--upload-pad", `${h}px`);
  }

  add(name, size) {
    this.show();
    this.active++;
    this._title();
    const bar = h("div.progress-bar");
    const status = h("span.upload-status", "Waiting…");
    const row = h("div.upload-row", { dataset: { name } },
      h("div.upload-name", h("span.ellipsis", { title: name }, name), h("span.muted", formatBytes(size))),
      h("div.progress", { role: "progressbar", "aria-label": `Upload of ${name}`, "aria-valuemin": "0", "aria-valuemax": "100" }, bar), status);
    this.list.prepend(row);
    const progressEl = row.querySelector(".progress");
    return {
      progress: (loaded, total) => {
        const pct = total ? Math.round((loaded / total) * 100) : 0;
        bar.style.width = `${pct}%`;
        progressEl.setAttribute("aria-valuenow", String(pct));
        status.textContent = `${pct}% · ${formatBytes(loaded)} of ${formatBytes(total)}`;
      },
      done: (info) => {
        bar.style.width = "100%";
        row.classList.add("done");
        status.replaceChildren(icon("check"), h("span", info && info.multipart ? `Uploaded (${info.parts} parts)` : "Uploaded"));
        this.active--;
        this.ok++;
        this._title();
      },
      fail: (err) => {
        row.classList.add("failed");
        status.replaceChildren(icon("alert"), errorBlock(err, "upload", "upload-error"));
        this.active--;
        this.failed++;
        this._title();
      },
    };
  }

  _title() {
    const n = (k) => `${k} file${k === 1 ? "" : "s"}`;
    this.el.dataset.state = this.active ? "running" : this.failed ? "failed" : "complete";
    if (this.active) this.title.textContent = `Uploading ${n(this.active)}…`;
    else if (this.failed) this.title.textContent = this.ok ? `${n(this.ok)} uploaded, ${this.failed} failed` : `Upload failed (${n(this.failed)})`;
    else this.title.textContent = `${n(this.ok)} uploaded`;
    clearTimeout(this.timer);
    if (!this.active && !this.failed) this.timer = setTimeout(() => this.hide(), AUTO_HIDE_MS);
  }

  destroy() { clearTimeout(this.timer); this.resize.disconnect(); this.el.remove(); }
}
