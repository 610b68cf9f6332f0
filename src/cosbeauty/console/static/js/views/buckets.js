// Bucket list: create, open, delete.

import { h, icon, button, clear, dialog, confirmDialog, toast, formatDate, errorText } from "../ui.js";

export async function renderBuckets(ctx) {
  const { client, content, setHeader, objectsHash, navigate } = ctx;
  setHeader([{ label: "Buckets" }], [
    button("Refresh", { kind: "ghost", iconName: "refresh", on: () => load(), title: "Reload the list" }),
    button("Create bucket", { kind: "primary", iconName: "plus", on: () => createDialog(), id: "create-bucket" }),
  ]);
  const list = h("div.card.table-card");
  clear(content, h("div.page-head", h("div", h("h1", "Buckets"),
    h("p.muted", "Containers for your objects. Names end in your APPID."))), list);

  async function load() {
    clear(list, h("div.loading", h("span.spinner"), "Loading buckets…"));
    let buckets;
    try {
      buckets = await client.listBuckets();
    } catch (err) {
      clear(list, h("div.empty.error-state", icon("alert"), h("p", errorText(err))));
      return;
    }
    if (!buckets.length) {
      clear(list, h("div.empty", h("div.empty-icon", icon("bucket")), h("h3", "No buckets yet"),
        h("p.muted", "Create a bucket to upload photos and try AI face beauty."),
        button("Create bucket", { kind: "primary", iconName: "plus", on: () => createDialog() })));
      return;
    }
    const rows = buckets.map((b) => h("tr", { dataset: { bucket: b.name } },
      h("td", h("a.row-link.bucket-link", { href: objectsHash(b.name) }, h("span.file-icon.bucket", icon("bucket")), h("span", b.name))),
      h("td.muted", b.region),
      h("td.muted", formatDate(b.created)),
      h("td.actions", h("button.icon-btn.danger", { type: "button", title: `Delete ${b.name}`,
        on: { click: () => remove(b.name) } }, icon("trash")))));
    clear(list, h("table.table#bucket-table",
      h("thead", h("tr", h("th", "Name"), h("th", "Region"), h("th", "Created"), h("th.actions", ""))),
      h("tbody", rows)));
  }

  async function remove(name) {
    if (!(await confirmDialog("Delete bucket", `Delete the bucket “${name}”? It must be empty.`))) return;
    try {
      await client.deleteBucket(name);
      toast(`Bucket ${name} deleted`, "success");
      load();
    } catch (err) {
      toast(errorText(err), "error", 6000);
    }
  }

  function createDialog() {
    const suffix = `-${client.appid}`;
    const input = h("input#bucket-name", { placeholder: "photos", autocomplete: "off", spellcheck: "false",
      pattern: "[a-z0-9]([a-z0-9-]*[a-z0-9])?" });
    const err = h("div.form-error", { hidden: true });
    const submit = async (close) => {
      const name = input.value.trim().toLowerCase().replace(new RegExp(`${suffix}$`), "");
      if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(name) || (name + suffix).length > 60) {
        err.textContent = "Use lowercase letters, digits and dashes (not at the start or end).";
        err.hidden = false;
        return;
      }
      try {
        await client.createBucket(name + suffix);
        close(true);
        toast(`Bucket ${name + suffix} created`, "success");
        navigate(objectsHash(name + suffix));
      } catch (e) {
        err.textContent = errorText(e);
        err.hidden = false;
      }
    };
    dialog({
      title: "Create bucket",
      body: h("form", { on: { submit: (e) => { e.preventDefault(); document.getElementById("create-bucket-ok").click(); } } },
        h("label.field", h("span", "Bucket name"), h("div.input-group", input, h("span.addon", suffix))),
        h("p.hint", "Lowercase letters, digits and dashes. The APPID suffix is added for you."), err),
      actions: (close) => [
        button("Cancel", { on: () => close(null) }),
        button("Create", { kind: "primary", id: "create-bucket-ok", on: () => submit(close) }),
      ],
    });
  }

  await load();
  return null;
}
