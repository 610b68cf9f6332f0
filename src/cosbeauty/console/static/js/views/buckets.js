// Bucket list: create, open, delete (emptying it first when asked). A user who may not list
// buckets (no cos:GetService, e.g. a sub-account scoped to one bucket) opens one by name instead;
// the names are remembered for the tab.

import { h, icon, button, clear, dialog, confirmDialog, toast, errorToast, errorBlock, formatDate, denyControl } from "../ui.js";
import { emptyBucket } from "../bulk.js";

export async function renderBuckets(ctx) {
  const { client, content, setHeader, objectsHash, navigate, session } = ctx;
  const creds = session.load() || {};
  const createBtn = button("Create bucket", { kind: "primary", iconName: "plus", on: () => createDialog(), id: "create-bucket" });
  setHeader([{ label: "Buckets" }], [
    button("Refresh", { kind: "ghost", iconName: "refresh", on: () => load(), title: "Reload the list", id: "refresh-buckets" }),
    createBtn,
  ]);
  if (creds.canCreate === false) denyControl(createBtn, "Your keys may not create buckets (cos:PutBucket).");
  const list = h("div.card.table-card");
  const opener = openByName();
  clear(content, h("div.page-head", h("div", h("h1", "Buckets"),
    h("p.muted", "Containers for your objects. Names end in your APPID."))), opener, list);

  function openByName() {
    const input = h("input#open-bucket-name", { placeholder: `photos-${client.appid || "1250000000"}`, autocomplete: "off",
      spellcheck: "false", "aria-describedby": "open-bucket-hint" });
    const remembered = (session.load()?.buckets || []);
    return h("form.card.open-bucket#open-bucket", { hidden: creds.canList !== false, "aria-labelledby": "open-bucket-title",
      on: { submit: (e) => {
        e.preventDefault();
        let name = input.value.trim().toLowerCase();
        if (!name) { input.focus(); return; }
        if (client.appid && !name.endsWith(`-${client.appid}`)) name = `${name}-${client.appid}`;
        navigate(objectsHash(name));
      } } },
    h("h2#open-bucket-title", "Open a bucket by name"),
    h("p.muted#open-bucket-hint", "Your keys may not list all buckets (cos:GetService), but may still use some. " +
      "Type the name of a bucket you were given; this tab remembers it."),
    h("div.open-row", h("label.visually-hidden", { for: "open-bucket-name" }, "Bucket name"), input,
      button("Open", { kind: "primary", type: "submit", id: "open-bucket-ok" })),
    remembered.length ? h("div.remembered", h("span.muted", "Opened in this tab:"),
      remembered.map((b) => h("a.pill.bucket-pill", { href: objectsHash(b) }, b))) : null);
  }

  async function load() {
    if (creds.canList === false) {
      list.hidden = true;
      return;
    }
    clear(list, h("div.loading", h("span.spinner"), "Loading buckets…"));
    let buckets;
    try {
      buckets = await client.listBuckets();
    } catch (err) {
      if (err.code === "AccessDenied") {
        session.update({ canList: false });
        opener.hidden = false;
        list.hidden = true;
        return;
      }
      clear(list, h("div.empty.error-state", icon("alert"), errorBlock(err, "list buckets")));
      return;
    }
    if (!buckets.length) {
      clear(list, h("div.empty", h("div.empty-icon", icon("bucket")), h("h2", "No buckets yet"),
        h("p.muted", "Create a bucket to upload photos and try AI face beauty."),
        creds.canCreate === false ? null : button("Create bucket", { kind: "primary", iconName: "plus", on: () => createDialog() })));
      return;
    }
    const perms = await deletePermissions(buckets.map((b) => b.name));
    const items = buckets.map((b) => {
      const del = h("button.icon-btn.danger", { type: "button", title: `Delete ${b.name}`, "aria-label": `Delete bucket ${b.name}`,
        dataset: { action: "delete" }, on: { click: () => remove(b.name) } }, icon("trash"));
      if (perms[b.name] === false) denyControl(del, `You may not delete ${b.name} (cos:DeleteBucket).`);
      return h("tr", { dataset: { bucket: b.name } },
        h("td.cell-name", h("a.row-link.bucket-link", { href: objectsHash(b.name) }, h("span.file-icon.bucket", icon("bucket")), h("span.name-text", b.name))),
        h("td.muted.cell-meta", { dataset: { label: "Region" } }, b.region),
        h("td.muted.cell-meta", { dataset: { label: "Created" } }, formatDate(b.created)),
        h("td.actions", del));
    });
    clear(list, h("table.table.responsive#bucket-table",
      h("caption.visually-hidden", "Buckets"),
      h("thead", h("tr", h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Region"), h("th", { scope: "col" }, "Created"),
        h("th.actions", { scope: "col" }, h("span.visually-hidden", "Actions")))),
      h("tbody", items)));
  }

  async function deletePermissions(names) {
    if (creds.root) return {};
    try {
      const res = await client.permissions(names.slice(0, 40).map((bucket) => ({ action: "cos:DeleteBucket", bucket })));
      return Object.fromEntries(res.results.map((r) => [r.bucket, r.allowed]));
    } catch { return {}; }
  }

  async function remove(name) {
    if (!(await confirmDialog("Delete bucket", `Delete the bucket “${name}”?`))) return;
    try {
      await client.deleteBucket(name);
      toast(`Bucket ${name} deleted`, "success");
      session.forgetBucket(name);
      load();
    } catch (err) {
      if (err.code !== "BucketNotEmpty") { errorToast(err, "delete the bucket"); return; }
      const report = await emptyBucket(client, name, { thenDelete: true });
      if (report && report.bucketDeleted) { session.forgetBucket(name); }
      load();
    }
  }

  function createDialog() {
    const suffix = `-${client.appid}`;
    // Chromium compiles `pattern` with the v flag: a literal "-" in a class must be escaped.
    const input = h("input#bucket-name", { placeholder: "photos", autocomplete: "off", spellcheck: "false", required: true,
      pattern: "[a-z0-9]([a-z0-9\\-]*[a-z0-9])?", maxlength: String(Math.max(1, 60 - suffix.length)),
      "aria-describedby": "bucket-name-hint" });
    const err = h("div.form-error", { hidden: true, role: "alert" });
    const submit = async (close) => {
      input.value = input.value.trim().toLowerCase().replace(new RegExp(`${suffix}$`), "");
      if (!input.reportValidity()) { input.setAttribute("aria-invalid", "true"); return; }   // the browser's own message
      const name = input.value;
      if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(name) || (name + suffix).length > 60) {
        err.replaceChildren(h("p", "Use lowercase letters, digits and dashes (not at the start or end)."));
        err.hidden = false;
        input.setAttribute("aria-invalid", "true");
        return;
      }
      try {
        await client.createBucket(name + suffix);
        close(true);
        toast(`Bucket ${name + suffix} created`, "success");
        session.rememberBucket(name + suffix);
        navigate(objectsHash(name + suffix));
      } catch (e) {
        err.replaceChildren(errorBlock(e, "create the bucket"));
        err.hidden = false;
      }
    };
    dialog({
      title: "Create bucket",
      body: h("form", { on: { submit: (e) => { e.preventDefault(); document.getElementById("create-bucket-ok").click(); } } },
        h("div.field", h("label", { for: "bucket-name" }, "Bucket name"), h("div.input-group", input, h("span.addon", suffix))),
        h("p.hint#bucket-name-hint", "Lowercase letters, digits and dashes. The APPID suffix is added for you."), err),
      actions: (close) => [
        button("Cancel", { on: () => close(null) }),
        button("Create", { kind: "primary", id: "create-bucket-ok", on: () => submit(close) }),
      ],
    });
  }

  await load();
  return null;
}
