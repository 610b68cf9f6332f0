// Console entry point: session (sessionStorage only), hash router and the app shell.

import { CosClient } from "./api.js";
import { h, clear, icon, toast, errorBlock, closeAllDialogs } from "./ui.js";
import { renderLogin } from "./views/login.js";
import { renderBuckets } from "./views/buckets.js";
import { renderObjects } from "./views/objects.js";
import { renderBeauty } from "./views/beauty.js";
import { renderUsage } from "./views/usage.js";

const STORE = "cosbeauty.console.credentials";

/** The signed-in session, kept in the tab's sessionStorage only: the key pair, what the server said
 *  about it (root? may it list buckets?) and the buckets typed in by a bucket-scoped user. */
export const session = {
  load() {
    try { return JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch { return null; }
  },
  save(creds) { sessionStorage.setItem(STORE, JSON.stringify(creds)); },
  clear() { sessionStorage.removeItem(STORE); },
  update(patch) { const c = session.load(); if (c) session.save({ ...c, ...patch }); },
  /** Buckets this tab has opened (a user who cannot list buckets picks from these). */
  rememberBucket(name) {
    const c = session.load();
    if (!c) return;
    const list = (c.buckets || []).filter((b) => b !== name);
    list.unshift(name);
    session.save({ ...c, buckets: list.slice(0, 20) });
  },
  forgetBucket(name) {
    const c = session.load();
    if (c) session.save({ ...c, buckets: (c.buckets || []).filter((b) => b !== name) });
  },
};

/** Per-session UI state (filters, page size ...). Reset on every sign-in and sign-out, so nothing
 *  chosen by one identity carries over to the next one in the same tab. */
export const ui = freshUiState();
function freshUiState() { return { usagePeriod: "30d", usageBucket: "", pageSize: 50 }; }
function resetUiState() { Object.assign(ui, freshUiState()); }

let client = null;
let cleanup = null;
let routed = 0;          // views shown in this page load (the first one keeps the browser's focus)

export function getClient() { return client; }

/** Prove the keys with a signed dry-run permission check (which needs no particular permission),
 *  then list buckets if this identity may. A sub-account scoped to one bucket, without
 *  cos:GetService, signs in too and opens buckets by name. */
export async function signIn(secretId, secretKey) {
  const c = new CosClient({ secretId, secretKey });
  const info = await c.permissions([{ action: "cos:GetService" }, { action: "cos:PutBucket" }]);
  c.appid = info.appid || "";
  const canList = info.results[0].allowed;
  resetUiState();
  client = c;
  const principal = info.principal || {};
  session.save({ secretId, secretKey, appid: c.appid, canList, canCreate: info.results[1].allowed,
    root: Boolean(principal.root), name: principal.name || "", buckets: [] });
}

export function signOut() {
  closeAllDialogs();
  session.clear();
  resetUiState();
  client = null;
  document.getElementById("upload-panel")?.remove();
  location.hash = "#/login";
}

export function navigate(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

export function objectsHash(bucket, prefix = "", query = {}) {
  const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v !== undefined && v !== null)).toString();
  return `#/b/${encodeURIComponent(bucket)}/${encodeURIComponent(prefix)}${qs ? "?" + qs : ""}`;
}

export function beautyHash(bucket, key) {
  return `#/beauty/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}`;
}

function parse(hash) {
  const [path, qs = ""] = hash.replace(/^#\/?/, "").split("?");
  const parts = path.split("/");
  const query = Object.fromEntries(new URLSearchParams(qs));
  const dec = (s) => { try { return decodeURIComponent(s || ""); } catch { return ""; } };
  switch (parts[0]) {
    case "login": return { name: "login" };
    case "b": return { name: "objects", bucket: dec(parts[1]), prefix: dec(parts.slice(2).join("/")), query };
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
    const content = h("main.content#content", { tabindex: "-1" });
    const skip = h("a.skip-link#skip-link", { href: "#content", on: { click: (e) => { e.preventDefault(); content.focus(); } } },
      "Skip to content");
    frame = h("div.frame",
      skip,
      h("header.sidebar",
        h("a.brand", { href: "#/buckets" }, h("span.brand-mark", icon("sparkles")),
          h("span.brand-name", "cosbeauty"), h("span.brand-tag", "console")),
        h("nav.nav", { "aria-label": "Main" }, nav("buckets", "Buckets", "bucket", "#/buckets"), nav("usage", "Usage", "chart", "#/usage")),
        h("div.sidebar-foot",
          h("div.account", icon("key"), h("div.account-text",
            h("div.account-label", "Signed in as"),
            h("div.account-id#account-id", { title: creds.secretId || "" }, creds.root ? "root account" : creds.name || maskId(creds.secretId || "")),
            h("div.account-appid", maskId(creds.secretId || "") + (creds.appid ? ` · APPID ${creds.appid}` : "")))),
          h("button.btn.ghost.block#sign-out", { type: "button", on: { click: signOut } }, icon("logout"), h("span", "Sign out")))),
      h("div.main",
        h("div.topbar", h("nav.crumbs#crumbs", { "aria-label": "Breadcrumbs" }), h("div.top-actions#top-actions")),
        content));
    clear(root, frame);
  }
  for (const a of frame.querySelectorAll(".nav-item")) {
    a.classList.toggle("active", a.dataset.nav === active);
    if (a.dataset.nav === active) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  return {
    content: clear(frame.querySelector("#content")),
    setHeader(crumbs, actions = []) {
      document.title = `${crumbs[crumbs.length - 1].label} · cosbeauty console`;
      clear(frame.querySelector("#crumbs"), h("ol.crumb-list", crumbs.map((c, i) => h("li.crumb-item",
        i ? icon("chevron", "crumb-sep") : null,
        c.hash && i < crumbs.length - 1 ? h("a.crumb", { href: c.hash }, c.label)
          : h("span.crumb.current", { "aria-current": "page", title: c.label }, c.label)))));
      clear(frame.querySelector("#top-actions"), actions);
    },
  };
}

function maskId(id) {
  return id.length > 12 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

async function route() {
  const token = ++routeToken;
  if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }
  closeAllDialogs();
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
  const current = () => token === routeToken;
  const ctx = { client, ...view, route: r, current, navigate: (hash) => { if (current()) navigate(hash); }, objectsHash, beautyHash, session, ui, creds: session.load() || {} };
  try {
    let done;
    if (r.name === "objects") done = await renderObjects(ctx, r.bucket, r.prefix, r.query || {});
    else if (r.name === "beauty") done = await renderBeauty(ctx, r.bucket, r.key);
    else if (r.name === "usage") done = await renderUsage(ctx);
    else done = await renderBuckets(ctx);
    if (!current()) { try { if (done) done(); } catch { /* ignore */ } return; }   // left while loading
    cleanup = done;
    // after an in-app navigation the clicked link is gone: start keyboard focus at the new view
    const active = document.activeElement;
    if (routed++ && (!active || active === document.body)) view.content.focus({ preventScroll: true });
  } catch (err) {
    if (err && (err.code === "InvalidAccessKeyId" || err.code === "SignatureDoesNotMatch")) {
      toast("Your keys were refused; please sign in again.", "error");
      signOut();
      return;
    }
    clear(view.content, h("div.card", h("div.empty.error-state", icon("alert"), h("h2", "Something went wrong"), errorBlock(err))));
  }
}

let routeToken = 0;   // a view whose route was left while it was still loading must not navigate or rewrite the URL

window.addEventListener("hashchange", route);
if (document.readyState === "loading") window.addEventListener("DOMContentLoaded", route);
else route();
