// Objects of one bucket: prefix navigation, paging (marker), upload (picker + drag and drop),
// download, delete, new folder, and the bucket's Cloud Infinite switches.

import { h, icon, button, clear, dialog, confirmDialog, toast, formatBytes, formatDate, errorText, isImageKey } from "../ui.js";
import { uploadFile, UploadPanel } from "../upload.js";
import { ciPanel } from "./ci.js";

const PAGE_SIZES = [20, 50, 100, 200];
let pageSize = 50;

export async function renderObjects(ctx, bucket, prefix) {
  const { client, content, setHeader, objectsHash, beautyHash } = ctx;
  const markers = [""];          // marker of each page seen so far (for "Previous")
  let page = 0;
  let last = null;

  const fileInput = h("input#file-input.visually-hidden", { type: "file", multiple: true, tabindex: "-1", "aria-hidden": "true",
    on: { change: () => { uploadFiles([...fileInput.files]); fileInput.value = ""; } } });
  const crumbs = [{ label: "Buckets", hash: "#/buckets" }, { label: bucket, hash: objectsHash(bucket) }];
  let acc = "";
  for (const seg of prefix.split("/").filter(Boolean)) {
    acc += seg + "/";
    crumbs.push({ label: seg, hash: objectsHash(bucket, acc) });
  }
  setHeader(crumbs, [
    button("", { kind: "ghost", iconName: "refresh", on: () => load(markers[page]), title: "Refresh" }),
    button("New folder", { kind: "ghost", iconName: "folder", on: () => folderDialog(), id: "new-folder" }),
    button("Upload", { kind: "primary", iconName: "upload", on: () => fileInput.click(), id: "upload-button" }),
    fileInput,
  ]);

  const tableHost = h("div.table-host");
  const pager = h("div.pager");
  const dropHint = h("div.drop-overlay", h("div.drop-card", icon("upload"), h("strong", "Drop files to upload"),
    h("span", prefix ? `into ${prefix}` : `into ${bucket}`)));
  const card = h("div.card.table-card.dropzone#dropzone", tableHost, pager, dropHint);
  const ci = h("div.ci-host");
  clear(content,
    h("div.page-head", h("div", h("h1", prefix ? prefix.replace(/\/$/, "").split("/").pop() : bucket),
      h("p.muted", prefix ? `${bucket}/${prefix}` : "Drag and drop files anywhere on the list to upload.")), ci),
    card);
  ciPanel(ctx, bucket, ci);

  // drag and drop --------------------------------------------------------------------------
  let depth = 0;
  const onDragEnter = (e) => { if (hasFiles(e)) { e.preventDefault(); depth++; card.classList.add("dragging"); } };
  const onDragOver = (e) => { if (hasFiles(e)) { e.preventDefault(); e.dataTransfer.dropEffect = "copy"; } };
  const onDragLeave = () => { depth = Math.max(0, depth - 1); if (!depth) card.classList.remove("dragging"); };
  const onDrop = (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    card.classList.remove("dragging");
    uploadFiles([...e.dataTransfer.files]);
  };
  content.addEventListener("dragenter", onDragEnter);
  content.addEventListener("dragover", onDragOver);
  content.addEventListener("dragleave", onDragLeave);
  content.addEventListener("drop", onDrop);

  let panel = null;
  async function uploadFiles(files) {
    if (!files.length) return;
    panel = panel || new UploadPanel();
    await Promise.all(files.map(async (file) => {
      const key = prefix + file.name;
      const row = panel.add(file.name, file.size);
      try {
        const info = await uploadFile(client, bucket, key, file, { onProgress: row.progress });
        row.done(info);
      } catch (err) {
        row.fail(err);
        toast(`Upload of ${file.name} failed: ${errorText(err)}`, "error", 7000);
      }
    }));
    load(markers[page]);
  }

  // listing ---------------------------------------------------------------------------------
  async function load(marker = "") {
    tableHost.classList.add("is-loading");
    try {
      last = await client.listObjects(bucket, { prefix, marker, maxKeys: pageSize });
    } catch (err) {
      clear(tableHost, h("div.empty.error-state", icon("alert"), h("p", errorText(err))));
      tableHost.classList.remove("is-loading");
      return;
    }
    tableHost.classList.remove("is-loading");
    renderTable(last);
    renderPager(last);
  }

  function renderTable(res) {
    const rows = [];
    if (prefix) {
      const parent = prefix.replace(/[^/]*\/$/, "");
      rows.push(h("tr.up-row", h("td", { colspan: 4 }, h("a.row-link", { href: objectsHash(bucket, parent) },
        h("span.file-icon", icon("back")), h("span.muted", "Parent folder")))));
    }
    for (const folder of res.folders) {
      const name = folder.slice(prefix.length);
      rows.push(h("tr", { dataset: { key: folder } },
        h("td", h("a.row-link.folder-link", { href: objectsHash(bucket, folder) }, h("span.file-icon.folder", icon("folder")), h("span", name))),
        h("td.muted.num", "Folder"), h("td.muted", "—"),
        h("td.actions", h("button.icon-btn.danger", { type: "button", title: `Delete folder ${name}`, on: { click: () => removeFolder(folder) } }, icon("trash")))));
    }
    for (const obj of res.objects) {
      if (obj.key === prefix) continue;          // the folder marker itself
      const name = obj.key.slice(prefix.length);
      const image = isImageKey(obj.key);
      const nameCell = image
        ? h("a.row-link.object-link", { href: beautyHash(bucket, obj.key), title: "Open in the beauty studio" },
          h("span.file-icon.image", icon("image")), h("span.ellipsis", name))
        : h("span.row-link.object-link", h("span.file-icon", icon("file")), h("span.ellipsis", name));
      rows.push(h("tr", { dataset: { key: obj.key } },
        h("td", nameCell),
        h("td.muted.num", formatBytes(obj.size)),
        h("td.muted", formatDate(obj.modified)),
        h("td.actions",
          image ? h("a.icon-btn.accent", { href: beautyHash(bucket, obj.key), title: "AI face beauty", dataset: { action: "beauty" } }, icon("sparkles")) : null,
          h("button.icon-btn", { type: "button", title: "Download", dataset: { action: "download" }, on: { click: () => download(obj.key) } }, icon("download")),
          h("button.icon-btn.danger", { type: "button", title: "Delete", dataset: { action: "delete" }, on: { click: () => remove(obj.key) } }, icon("trash")))));
    }
    if (!res.folders.length && !res.objects.filter((o) => o.key !== prefix).length) {
      clear(tableHost, prefix ? h("table.table#object-table", h("tbody", rows)) : null,
        h("div.empty", h("div.empty-icon", icon("upload")), h("h3", "Nothing here yet"),
          h("p.muted", "Drop files here, or pick them from your computer."),
          button("Upload files", { kind: "primary", iconName: "upload", on: () => fileInput.click() })));
      return;
    }
    clear(tableHost, h("table.table#object-table",
      h("thead", h("tr", h("th", "Name"), h("th.num", "Size"), h("th", "Last modified"), h("th.actions", ""))),
      h("tbody", rows)));
  }

  function renderPager(res) {
    const count = res.folders.length + res.objects.length;
    const sizeSelect = h("select#page-size", { title: "Items per page", on: { change: () => {
      pageSize = Number(sizeSelect.value); markers.length = 1; page = 0; load(""); } } },
    PAGE_SIZES.map((n) => h("option", { value: String(n), selected: n === pageSize }, `${n} / page`)));
    clear(pager,
      h("span.muted", `Page ${page + 1} · ${count} item${count === 1 ? "" : "s"}${res.truncated ? " · more available" : ""}`),
      h("div.pager-buttons", sizeSelect,
        button("Previous", { kind: "ghost", id: "page-prev", disabled: page === 0, on: () => { page--; load(markers[page]); } }),
        button("Next", { kind: "ghost", id: "page-next", disabled: !res.truncated, on: () => {
          const next = res.nextMarker || lastKey(res);
          page++;
          markers[page] = next;
          load(next);
        } })));
  }

  // actions -----------------------------------------------------------------------------------
  async function download(key) {
    const name = key.split("/").pop();
    const url = await client.presignedUrl(bucket, key,
      { "response-content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(name)}` }, 600);
    const a = h("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
  }

  async function remove(key) {
    if (!(await confirmDialog("Delete object", `Delete “${key}”? This cannot be undone.`))) return;
    try {
      await client.deleteObject(bucket, key);
      toast(`Deleted ${key}`, "success");
      load(markers[page]);
    } catch (err) {
      toast(errorText(err), "error", 6000);
    }
  }

  async function removeFolder(folder) {
    const res = await client.listObjects(bucket, { prefix: folder, delimiter: "", maxKeys: 1000 });
    const n = res.objects.length;
    if (!(await confirmDialog("Delete folder", `Delete “${folder}” and the ${n}${res.truncated ? "+" : ""} object${n === 1 ? "" : "s"} in it?`))) return;
    try {
      let r = res;
      for (;;) {
        for (const o of r.objects) await client.deleteObject(bucket, o.key);
        if (!r.truncated) break;
        r = await client.listObjects(bucket, { prefix: folder, delimiter: "", maxKeys: 1000 });
      }
      toast(`Deleted ${folder}`, "success");
    } catch (err) {
      toast(errorText(err), "error", 6000);
    }
    load(markers[page]);
  }

  function folderDialog() {
    const input = h("input#folder-name", { placeholder: "holiday-2024", autocomplete: "off" });
    const err = h("div.form-error", { hidden: true });
    const create = async (close) => {
      const name = input.value.trim().replace(/^\/+|\/+$/g, "");
      if (!name || name.split("/").some((s) => s === "." || s === ".." || !s)) {
        err.textContent = "Enter a folder name."; err.hidden = false; return;
      }
      try {
        await client.putObject(bucket, `${prefix}${name}/`, new Blob([]));
        close(true);
        ctx.navigate(objectsHash(bucket, `${prefix}${name}/`));
      } catch (e) { err.textContent = errorText(e); err.hidden = false; }
    };
    let closeRef;
    dialog({
      title: "New folder",
      body: h("form", { on: { submit: (e) => { e.preventDefault(); create(closeRef); } } },
        h("label.field", h("span", "Folder name"), input), err),
      actions: (close) => { closeRef = close; return [button("Cancel", { on: () => close(null) }),
        button("Create", { kind: "primary", on: () => create(close) })]; },
    });
  }

  await load("");
  return () => {
    content.removeEventListener("dragenter", onDragEnter);
    content.removeEventListener("dragover", onDragOver);
    content.removeEventListener("dragleave", onDragLeave);
    content.removeEventListener("drop", onDrop);
    if (panel && !panel.active) panel.destroy();
  };
}

function hasFiles(e) {
  return e.dataTransfer && [...e.dataTransfer.types].includes("Files");
}

function lastKey(res) {
  const keys = [...res.objects.map((o) => o.key), ...res.folders];
  return keys.sort().pop() || "";
}
