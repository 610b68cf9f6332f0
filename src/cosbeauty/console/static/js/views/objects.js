// Objects of one bucket: prefix navigation, a name filter, paging (marker) with a total and page
// jump when counting is cheap, page state in the URL, selection with bulk delete, upload (picker
// + drag and drop), download, delete, new folder, and the bucket's Cloud Infinite switches.
// Buttons the signed-in identity may not use are disabled and explained (dry-run permission check).

import { h, icon, button, clear, dialog, confirmDialog, toast, errorToast, errorBlock, formatBytes, formatDate,
  isImageKey, denyControl } from "../ui.js";
import { uploadFile, UploadPanel } from "../upload.js";
import { runDelete, emptyBucket } from "../bulk.js";
import { ciPanel } from "./ci.js";

const PAGE_SIZES = [20, 50, 100, 200];
const COUNT_LIMIT = 10000;          // count entries up to this many (10 list calls): "total when cheap"
const counts = new Map();           // `${secretId}\n${bucket}\n${listPrefix}` -> {names, complete}

export async function renderObjects(ctx, bucket, prefix, query = {}) {
  const { client, content, setHeader, objectsHash, beautyHash, session, ui } = ctx;
  const creds = session.load() || {};
  if (PAGE_SIZES.includes(Number(query.size))) ui.pageSize = Number(query.size);
  const size = ui.pageSize;
  const filter = query.q || "";
  const listPrefix = prefix + filter;
  const countKey = `${creds.secretId}\n${bucket}\n${listPrefix}`;
  let page = Math.max(0, (parseInt(query.page, 10) || 1) - 1);
  const markers = [""];          // marker of each page seen so far
  let last = null;
  let entries = [];
  const selected = new Set();
  let perms = { get: true, put: true, del: true, list: true };
  let countFailed = false;

  const fileInput = h("input#file-input.visually-hidden", { type: "file", multiple: true, tabindex: "-1", "aria-hidden": "true",
    on: { change: () => { uploadFiles([...fileInput.files]); fileInput.value = ""; } } });
  const crumbs = [{ label: "Buckets", hash: "#/buckets" }, { label: bucket, hash: objectsHash(bucket) }];
  let acc = "";
  for (const seg of prefix.split("/").filter(Boolean)) {
    acc += seg + "/";
    crumbs.push({ label: seg, hash: objectsHash(bucket, acc) });
  }
  const newFolderBtn = button("New folder", { kind: "ghost", iconName: "folder", on: () => folderDialog(), id: "new-folder" });
  const uploadBtn = button("Upload", { kind: "primary", iconName: "upload", on: () => fileInput.click(), id: "upload-button" });
  setHeader(crumbs, [
    h("button.btn.ghost.square#refresh-objects", { type: "button", title: "Refresh", "aria-label": "Refresh", on: { click: () => load(page) } }, icon("refresh")),
    newFolderBtn, uploadBtn, fileInput,
  ]);

  const filterInput = h("input#object-filter", { type: "search", placeholder: prefix ? `Filter in ${prefix}` : "Filter by name prefix",
    value: filter, autocomplete: "off", spellcheck: "false", "aria-label": "Filter objects by name prefix" });
  const filterForm = h("form.filter-form#filter-form", { role: "search", on: { submit: (e) => { e.preventDefault(); go(0, filterInput.value.trim()); } } },
    icon("search"), filterInput,
    filter ? h("button.btn.ghost#filter-clear", { type: "button", on: { click: () => go(0, "") } }, "Clear") : null);
  const selectAll = h("input#select-all", { type: "checkbox", "aria-label": "Select all on this page",
    on: { change: () => { for (const e of entries) toggle(e.name, selectAll.checked); renderSelection(); syncChecks(); } } });
  const selBar = h("div.selection-bar#selection-bar", { hidden: true, role: "region", "aria-label": "Selection" });
  const notice = h("div.perm-notice#perm-notice", { hidden: true, role: "note" });
  const tableHost = h("div.table-host");
  const pager = h("nav.pager#pager", { "aria-label": "Pages" });
  const dropHint = h("div.drop-overlay", h("div.drop-card", icon("upload"), h("strong", "Drop files to upload"),
    h("span", prefix ? `into ${prefix}` : `into ${bucket}`)));
  const card = h("div.card.table-card.dropzone#dropzone", h("div.list-toolbar", h("div.check-all", selectAll), filterForm), selBar, tableHost, pager, dropHint);
  const ci = h("div.ci-host");
  const emptyBtn = prefix ? null : button("Empty bucket", { kind: "ghost danger-text", iconName: "trash", id: "empty-bucket",
    on: async () => { const r = await emptyBucket(client, bucket); if (r) { counts.clear(); go(0, filter); } } });
  const title = prefix ? prefix.replace(/\/$/, "").split("/").pop() : bucket;
  clear(content,
    h("div.page-head", h("div.page-title", h("h1.break", title),
      h("p.muted.break", prefix ? `${bucket}/${prefix}` : "Drag and drop files anywhere on the list to upload.")),
    h("div.head-tools", ci, emptyBtn)),
    notice, card);
  ciPanel(ctx, bucket, ci);

  // permissions (dry run) ---------------------------------------------------------------------
  async function loadPermissions() {
    if (creds.root) return;
    let res;
    try {
      res = await client.permissions([
        { action: "cos:GetBucket", bucket }, { action: "cos:PutObject", bucket, key: prefix },
        { action: "cos:DeleteObject", bucket, key: prefix }, { action: "cos:GetObject", bucket, key: prefix }]);
    } catch { return; }
    const [list, put, del, get] = res.results.map((r) => r.allowed);
    perms = { list, put, del, get };
    const lines = [];
    if (!put) {
      denyControl(uploadBtn, "Your keys may not upload here (cos:PutObject).");
      denyControl(newFolderBtn, "Your keys may not create folders here (cos:PutObject).");
      lines.push("upload or create folders");
    }
    if (!del) {
      if (emptyBtn) denyControl(emptyBtn, "Your keys may not delete objects here (cos:DeleteObject).");
      lines.push("delete");
    }
    if (!get) lines.push("download or open objects");
    if (lines.length) {
      clear(notice, icon("key"), h("p", h("strong", "Limited access. "),
        `Your keys may not ${lines.join(", ").replace(/, ([^,]*)$/, " or $1")} in this ${prefix ? "folder" : "bucket"}. Those buttons are switched off.`));
      notice.hidden = false;
    }
  }

  // drag and drop --------------------------------------------------------------------------
  let depth = 0;
  const onDragEnter = (e) => { if (hasFiles(e) && perms.put) { e.preventDefault(); depth++; card.classList.add("dragging"); } };
  const onDragOver = (e) => { if (hasFiles(e) && perms.put) { e.preventDefault(); e.dataTransfer.dropEffect = "copy"; } };
  const onDragLeave = () => { depth = Math.max(0, depth - 1); if (!depth) card.classList.remove("dragging"); };
  const onDrop = (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    card.classList.remove("dragging");
    if (!perms.put) { toast("Your keys may not upload here.", "error"); return; }
    uploadFiles([...e.dataTransfer.files]);
  };
  content.addEventListener("dragenter", onDragEnter);
  content.addEventListener("dragover", onDragOver);
  content.addEventListener("dragleave", onDragLeave);
  content.addEventListener("drop", onDrop);

  let panel = null;
  async function uploadFiles(files) {
    if (!files.length) return;
    panel = UploadPanel.shared();
    await Promise.all(files.map(async (file) => {
      const key = prefix + file.name;
      const row = panel.add(file.name, file.size);
      try {
        const info = await uploadFile(client, bucket, key, file, { onProgress: row.progress });
        row.done(info);
      } catch (err) {
        row.fail(err);
      }
    }));
    counts.delete(countKey);
    load(page);
  }

  // listing ---------------------------------------------------------------------------------
  function go(newPage, newFilter = filter) {
    if (newFilter !== filter) { ctx.navigate(objectsHash(bucket, prefix, { q: newFilter, size: sizeParam() })); return; }
    load(newPage, { scroll: true });
  }
  const sizeParam = () => (size === 50 ? "" : String(size));

  function syncUrl() {
    const hash = objectsHash(bucket, prefix, { q: filter, page: page ? String(page + 1) : "", size: sizeParam() });
    if (ctx.current() && location.hash !== hash) history.replaceState(null, "", hash);
  }

  /** [page, marker] for page n (0-based), clamped to the pages that exist (or that were counted). */
  async function markerFor(n) {
    if (n === 0) return [0, ""];
    if (markers[n] !== undefined) return [n, markers[n]];
    const idx = await countEntries();
    const lastPage = Math.max(0, Math.ceil(idx.names.length / size) - 1);
    const p = Math.min(n, lastPage);
    return p === 0 ? [0, ""] : [p, idx.names[p * size - 1]];
  }

  async function load(n = 0, { scroll = false } = {}) {
    tableHost.classList.add("is-loading");
    tableHost.setAttribute("aria-busy", "true");
    let marker;
    try {
      [n, marker] = await markerFor(n);
      const extra = n === 0 && prefix && !filter ? 1 : 0;        // the folder's own marker object
      last = await client.listObjects(bucket, { prefix: listPrefix, marker, maxKeys: size + extra });
    } catch (err) {
      clear(tableHost, h("div.empty.error-state", icon("alert"), errorBlock(err, "list this bucket")));
      if (err.code === "NoSuchBucket") session.forgetBucket(bucket);
      tableHost.classList.remove("is-loading");
      tableHost.removeAttribute("aria-busy");
      clear(pager);
      return;
    }
    session.rememberBucket(bucket);
    page = n;
    tableHost.classList.remove("is-loading");
    tableHost.removeAttribute("aria-busy");
    entries = [
      ...last.folders.map((f) => ({ name: f, folder: true })),
      ...last.objects.filter((o) => o.key !== prefix).map((o) => ({ name: o.key, folder: false, obj: o })),
    ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let truncated = last.truncated;
    if (entries.length > size) { entries = entries.slice(0, size); truncated = true; }
    if (truncated && entries.length) markers[page + 1] = entries[entries.length - 1].name;
    last.truncatedShown = truncated;
    selected.clear();
    renderTable();
    renderSelection();
    renderPager();
    syncUrl();
    if (scroll) {
      window.scrollTo({ top: 0 });
      content.focus({ preventScroll: true });
    }
    if (truncated || page > 0) countEntries().then(() => renderPager(), () => { countFailed = true; renderPager(); });
  }

  /** All entry names at this level (folders and objects), in order, up to COUNT_LIMIT: the total
   *  and the marker of any page. Cached per (bucket, prefix + filter) for the session. */
  async function countEntries() {
    const cacheKey = countKey;
    let idx = counts.get(cacheKey);
    if (idx && idx.promise) return idx.promise;
    if (idx) return idx;
    const promise = (async () => {
      const names = [];
      let marker = "";
      let complete = false;
      while (names.length < COUNT_LIMIT) {
        const res = await client.listObjects(bucket, { prefix: listPrefix, marker, maxKeys: 1000 });
        const batch = [...res.folders, ...res.objects.map((o) => o.key).filter((k) => k !== prefix)].sort();
        names.push(...batch);
        const all = [...res.folders, ...res.objects.map((o) => o.key)].sort();
        if (!res.truncated || !all.length) { complete = true; break; }
        marker = res.nextMarker || all[all.length - 1];
      }
      const result = { names, complete };
      counts.set(cacheKey, result);
      return result;
    })();
    counts.set(cacheKey, { promise });
    try { return await promise; } catch (err) { counts.delete(cacheKey); throw err; }
  }

  function toggle(name, on) { if (on) selected.add(name); else selected.delete(name); }
  function syncChecks() {
    for (const cb of tableHost.querySelectorAll("input.row-check")) cb.checked = selected.has(cb.value);
    selectAll.checked = entries.length > 0 && entries.every((e) => selected.has(e.name));
    selectAll.indeterminate = selected.size > 0 && !selectAll.checked;
  }

  function renderSelection() {
    selectAll.disabled = !perms.del || !entries.length;
    selectAll.hidden = !perms.del;
    if (!selected.size) { selBar.hidden = true; syncChecks(); return; }
    const folders = [...selected].filter((n) => n.endsWith("/")).length;
    const files = selected.size - folders;
    const what = [files ? `${files} object${files === 1 ? "" : "s"}` : "", folders ? `${folders} folder${folders === 1 ? "" : "s"}` : ""].filter(Boolean).join(" and ");
    clear(selBar, h("span#selection-count", `${what} selected`),
      h("div.selection-actions",
        button("Clear", { kind: "ghost", on: () => { selected.clear(); renderSelection(); }, id: "selection-clear" }),
        button("Delete selected", { kind: "danger", iconName: "trash", id: "delete-selected", on: () => deleteSelected() })));
    selBar.hidden = false;
    syncChecks();
  }

  function renderTable() {
    const rows = [];
    if (prefix) {
      const parent = prefix.replace(/[^/]*\/$/, "");
      rows.push(h("tr.up-row", h("td.cell-check"), h("td.cell-name", { colspan: 4 }, h("a.row-link", { href: objectsHash(bucket, parent) },
        h("span.file-icon", icon("back")), h("span", "Parent folder")))));
    }
    for (const e of entries) rows.push(e.folder ? folderRow(e.name) : objectRow(e.obj));
    if (!entries.length) {
      clear(tableHost, prefix ? h("table.table.responsive#object-table", h("tbody", rows)) : null,
        h("div.empty#empty-state", h("div.empty-icon", icon(filter ? "search" : "upload")),
          h("h2", filter ? `Nothing starts with “${filter}”` : prefix ? "This folder is empty" : "This bucket is empty"),
          h("p.muted", filter ? "Try a shorter filter." : perms.put ? "Drop files here, or pick them from your computer." : "There is nothing here yet."),
          !filter && perms.put ? button("Upload files", { kind: "primary", iconName: "upload", on: () => fileInput.click() }) : null));
      return;
    }
    clear(tableHost, h("table.table.responsive#object-table",
      h("caption.visually-hidden", `Objects in ${bucket}/${prefix}`),
      h("thead", h("tr", h("th.cell-check", { scope: "col" }, h("span.visually-hidden", "Select")), h("th", { scope: "col" }, "Name"),
        h("th.num", { scope: "col" }, "Size"), h("th", { scope: "col" }, "Last modified"), h("th.actions", { scope: "col" }, h("span.visually-hidden", "Actions")))),
      h("tbody", rows)));
  }

  function checkCell(name, label) {
    return h("td.cell-check", perms.del ? h("input.row-check", { type: "checkbox", value: name, "aria-label": `Select ${label}`,
      checked: selected.has(name), on: { change: (e) => { toggle(name, e.target.checked); renderSelection(); } } }) : null);
  }

  function folderRow(folder) {
    const name = folder.slice(prefix.length);
    const del = h("button.icon-btn.danger", { type: "button", title: `Delete folder ${name}`, "aria-label": `Delete folder ${name}`,
      dataset: { action: "delete" }, on: { click: () => removeFolder(folder) } }, icon("trash"));
    if (!perms.del) denyControl(del, "Your keys may not delete objects here.");
    return h("tr", { dataset: { key: folder } },
      checkCell(folder, `folder ${name}`),
      h("td.cell-name", h("a.row-link.folder-link", { href: objectsHash(bucket, folder) }, h("span.file-icon.folder", icon("folder")), h("span.name-text", name))),
      h("td.muted.num.cell-meta", "Folder"), h("td.muted.cell-meta.cell-date", "—"),
      h("td.actions", del));
  }

  function objectRow(obj) {
    const name = obj.key.slice(prefix.length);
    const image = isImageKey(obj.key);
    const nameCell = image
      ? h("a.row-link.object-link", { href: beautyHash(bucket, obj.key), title: "Open in the beauty studio" },
        h("span.file-icon.image", icon("image")), h("span.name-text", name))
      : h("span.row-link.object-link", h("span.file-icon", icon("file")), h("span.name-text", name));
    const dl = h("button.icon-btn", { type: "button", title: "Download", "aria-label": `Download ${name}`, dataset: { action: "download" },
      on: { click: () => download(obj.key) } }, icon("download"));
    const del = h("button.icon-btn.danger", { type: "button", title: "Delete", "aria-label": `Delete ${name}`, dataset: { action: "delete" },
      on: { click: () => remove(obj.key) } }, icon("trash"));
    if (!perms.get) denyControl(dl, "Your keys may not download objects here (cos:GetObject).");
    if (!perms.del) denyControl(del, "Your keys may not delete objects here (cos:DeleteObject).");
    return h("tr", { dataset: { key: obj.key } },
      checkCell(obj.key, name),
      h("td.cell-name", nameCell),
      h("td.muted.num.cell-meta", formatBytes(obj.size)),
      h("td.muted.cell-meta.cell-date", formatDate(obj.modified)),
      h("td.actions",
        image ? h("a.icon-btn.accent", { href: beautyHash(bucket, obj.key), title: "AI face beauty", "aria-label": `AI face beauty for ${name}`,
          dataset: { action: "beauty" } }, icon("sparkles")) : null,
        dl, del));
  }

  function renderPager() {
    const idx = counts.get(countKey);
    const known = idx && idx.names ? idx : null;
    const truncated = last && last.truncatedShown;
    const total = known ? known.names.length : !truncated && page === 0 ? entries.length : null;
    const pages = total !== null ? Math.max(1, Math.ceil(total / size)) : null;
    const from = entries.length ? page * size + 1 : 0;
    const to = page * size + entries.length;
    const totalText = total === null ? (truncated && !countFailed ? "counting…" : "") : known && !known.complete ? `${total.toLocaleString()}+` : total.toLocaleString();
    const summary = entries.length
      ? (totalText || !truncated ? `${from.toLocaleString()}–${to.toLocaleString()} of ${totalText || to.toLocaleString()} item${total === 1 ? "" : "s"}`
        : `${from.toLocaleString()}–${to.toLocaleString()} · more on the next page`)
      : "0 items";
    const sizeSelect = h("select#page-size", { "aria-label": "Items per page", on: { change: () => {
      ui.pageSize = Number(sizeSelect.value);
      ctx.navigate(objectsHash(bucket, prefix, { q: filter, size: ui.pageSize === 50 ? "" : String(ui.pageSize) }));
    } } }, PAGE_SIZES.map((n) => h("option", { value: String(n), selected: n === size }, `${n} / page`)));
    const jump = pages && pages > 1 ? h("form.page-jump#page-jump", { on: { submit: (e) => {
      e.preventDefault();
      const n = Math.min(pages, Math.max(1, parseInt(jumpInput.value, 10) || 1));
      go(n - 1);
    } } }, h("label", { for: "page-input" }, "Page"),
    h("input#page-input", { type: "number", min: "1", max: String(pages), value: String(page + 1), inputmode: "numeric" }),
    h("span.muted", `of ${pages.toLocaleString()}${known && !known.complete ? "+" : ""}`)) : null;
    const jumpInput = jump && jump.querySelector("input");
    clear(pager,
      h("span.pager-summary#pager-summary", { "aria-live": "polite" }, summary),
      h("div.pager-buttons", sizeSelect, jump,
        button("Previous", { kind: "ghost", id: "page-prev", disabled: page === 0, on: () => go(page - 1) }),
        button("Next", { kind: "ghost", id: "page-next", disabled: !truncated, on: () => go(page + 1) })));
    pager.dataset.page = String(page + 1);
    pager.dataset.total = total === null ? "" : String(total);
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
      counts.delete(countKey);
      load(page);
    } catch (err) {
      errorToast(err, "delete the object");
    }
  }

  async function removeFolder(folder) {
    if (!(await confirmDialog("Delete folder", `Delete the folder “${folder}” and every object in it? This cannot be undone.`))) return;
    await runDelete(client, bucket, { prefixes: [folder], title: `Deleting ${folder}` });
    counts.delete(countKey);
    load(page);
  }

  async function deleteSelected() {
    const names = [...selected];
    const keys = names.filter((n) => !n.endsWith("/"));
    const folders = names.filter((n) => n.endsWith("/"));
    const what = [keys.length ? `${keys.length} object${keys.length === 1 ? "" : "s"}` : "",
      folders.length ? `${folders.length} folder${folders.length === 1 ? "" : "s"} with everything in ${folders.length === 1 ? "it" : "them"}` : ""]
      .filter(Boolean).join(" and ");
    if (!(await confirmDialog("Delete selected", `Delete ${what}? This cannot be undone.`))) return;
    await runDelete(client, bucket, { keys, prefixes: folders, title: `Deleting ${what}` });
    counts.delete(countKey);
    load(page);
  }

  function folderDialog() {
    const input = h("input#folder-name", { placeholder: "holiday-2024", autocomplete: "off" });
    const err = h("div.form-error", { hidden: true, role: "alert" });
    const create = async (close) => {
      const name = input.value.trim().replace(/^\/+|\/+$/g, "");
      if (!name || name.split("/").some((s) => s === "." || s === ".." || !s)) {
        err.replaceChildren(h("p", "Enter a folder name.")); err.hidden = false; return;
      }
      try {
        await client.putObject(bucket, `${prefix}${name}/`, new Blob([]));
        close(true);
        ctx.navigate(objectsHash(bucket, `${prefix}${name}/`));
      } catch (e) { err.replaceChildren(errorBlock(e, "create the folder")); err.hidden = false; }
    };
    let closeRef;
    dialog({
      title: "New folder",
      body: h("form", { on: { submit: (e) => { e.preventDefault(); create(closeRef); } } },
        h("div.field", h("label", { for: "folder-name" }, "Folder name"), input), err),
      actions: (close) => { closeRef = close; return [button("Cancel", { on: () => close(null) }),
        button("Create", { kind: "primary", on: () => create(close) })]; },
    });
  }

  await loadPermissions();
  await load(page);
  return () => {
    content.removeEventListener("dragenter", onDragEnter);
    content.removeEventListener("dragover", onDragOver);
    content.removeEventListener("dragleave", onDragLeave);
    content.removeEventListener("drop", onDrop);
  };
}

function hasFiles(e) {
  return e.dataTransfer && [...e.dataTransfer.types].includes("Files");
}
