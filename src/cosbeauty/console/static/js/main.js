// Console entry point: session (sessionStorage only), hash router and the app shell.

import { CosClient } from "./api.js";
import { h, clear, icon, toast, errorText } from "./ui.js";
import { renderLogin } from "./views/login.js";
import { renderBuckets } from "./views/buckets.js";
import { renderObjects } from "./views/objects.js";
import { renderBeauty } from "./views/beauty.js";
import { renderUsage } from "./views/usage.js";

const STORE = "cosbeauty.console.credentials";

export const session = {
  load() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch { return null; }
  },
  save(creds) { sessionStorage.setItem(STORE, JSON.stringify(creds)); },
  clear() { sessionStorage.removeItem(STORE); },
};

let client = null;
let cleanup = null;

export function getClient() { return client; }

export async function signIn(secretId, secretKey) {
  const c = new CosClient({ secretId, secretKey });
  await c.listBuckets();           // proves the keys work (and learns the APPID)
  client = c;
  session.save({ secretId, secretKey, appid: c.appid });
}

export function signOut() {
  session.clear();
  client = null;
  location.hash = "#/login";
}

export function navigate(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

export function objectsHash(bucket, prefix = "") {
  return `#/b/${encodeURIComponent(bucket)}/${encodeURIComponent(prefix)}`;
}

export function beautyHash(bucket, key) {
  return `#/beauty/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}`;
}

function parse(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/");
  const dec = (s) => decodeURIComponent(s || "");
  switch (parts[0]) {
    case "login": return { name: "login" };
    case "b": return { name: "objects", bucket: dec(parts[1]), prefix: dec(parts.slice(2).join("/")) };
    case "beauty": return { name: "beauty", bucket: dec(parts[1]), key: dec(parts.slice(2).join("/")) };
    case "usage": return { name: "usage" };
    default: return { name: "buckets" };
  }
}

function shell(active) {
  const root = document.getElementById("app");
  let frame = root.querySelector(".frame");
  if (!frame) {
    const creds = session.load() || {};
    const nav = (name, label, iconName, hash) =>
      h("a.nav-item", { href: hash, dataset: { nav: name } }, icon(iconName), h("span", label));
    frame = h("div.frame",
      h("aside.sidebar",
        h("a.brand", { href: "#/buckets" }, h("span.brand-mark", icon("sparkles")), h("span.brand-name", "cosbeauty"),
          h("span.brand-tag", "console")),
        h("nav.nav", nav("buckets", "Buckets", "bucket", "#/buckets"), nav("usage", "Usage", "chart", "#/usage")),
        h("div.sidebar-foot",
          h("div.account", icon("key"), h("div.account-text",
            h("div.account-label", "Signed in as"),
            h("div.account-id#account-id", { title: creds.secretId || "" }, maskId(creds.secretId || "")),
            creds.appid ? h("div.account-appid", `APPID ${creds.appid}`) : null)),
          h("button.btn.ghost.block#sign-out", { type: "button", on: { click: signOut } }, icon("logout"), h("span", "Sign out")))),
      h("main.main",
        h("header.topbar", h("nav.crumbs#crumbs", { "aria-label": "Breadcrumbs" }), h("div.top-actions#top-actions")),
        h("section.content#content")));
    clear(root, frame);
  }
  for (const a of frame.querySelectorAll(".nav-item")) a.classList.toggle("active", a.dataset.nav === active);
  return {
    content: clear(frame.querySelector("#content")),
    setHeader(crumbs, actions = []) {
      clear(frame.querySelector("#crumbs"), crumbs.map((c, i) => [
        i ? icon("chevron", "crumb-sep") : null,
        c.hash && i < crumbs.length - 1 ? h("a.crumb", { href: c.hash }, c.label) : h("span.crumb.current", c.label),
      ]));
      clear(frame.querySelector("#top-actions"), actions);
    },
  };
}

function maskId(id) {
  return id.length > 12 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

async function route() {
  if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }
  const r = parse(location.hash);
  if (!client) {
    const creds = session.load();
    if (creds) {
      client = new CosClient(creds);
      client.appid = creds.appid || "";
    }
  }
  if (r.name === "login" || !client) {
    document.getElementById("app").replaceChildren();
    document.body.classList.add("logged-out");
    cleanup = renderLogin(document.getElementById("app"), { signIn, navigate, next: r.name === "login" ? "#/buckets" : location.hash || "#/buckets" });
    return;
  }
  document.body.classList.remove("logged-out");
  const view = shell(r.name === "beauty" ? "buckets" : r.name === "objects" ? "buckets" : r.name);
  const ctx = { client, ...view, route: r, navigate, objectsHash, beautyHash };
  try {
    if (r.name === "objects") cleanup = await renderObjects(ctx, r.bucket, r.prefix);
    else if (r.name === "beauty") cleanup = await renderBeauty(ctx, r.bucket, r.key);
    else if (r.name === "usage") cleanup = await renderUsage(ctx);
    else cleanup = await renderBuckets(ctx);
  } catch (err) {
    if (err && (err.code === "InvalidAccessKeyId" || err.code === "SignatureDoesNotMatch")) {
      toast("Your keys were refused; please sign in again.", "error");
      signOut();
      return;
    }
    clear(view.content, h("div.empty.error-state", icon("alert"), h("h3", "Something went wrong"), h("p", errorText(err))));
  }
}

window.addEventListener("hashchange", route);
if (document.readyState === "loading") window.addEventListener("DOMContentLoaded", route);
else route();
