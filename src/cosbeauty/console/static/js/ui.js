// DOM helpers, icons, toasts and dialogs. No framework: small functions over the DOM.

/** h("div.card#id", {attrs, on: {click}}, ...children) */
export function h(spec, props = {}, ...children) {
  if (props === null || typeof props !== "object" || props instanceof Node || Array.isArray(props)) {
    children.unshift(props);
    props = {};
  }
  const [, tag = "div", rest = ""] = spec.match(/^([a-z0-9-]*)(.*)$/i);
  const el = document.createElement(tag || "div");
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === ".") el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k === "html") el.innerHTML = v;           // only for trusted static markup (icons)
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const ICONS = {
  bucket: '<path d="M4 7h16l-1.6 11.2a2 2 0 0 1-2 1.8H7.6a2 2 0 0 1-2-1.8L4 7Z"/><path d="M3 7c0-1.7 4-3 9-3s9 1.3 9 3"/>',
  folder: '<path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V7Z"/>',
  file: '<path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8l-5-5Z"/><path d="M14 3v5h5"/>',
  image: '<rect x="3" y="4" width="18" height="16" rx="2"/><circle cx="9" cy="10" r="2"/><path d="m21 16-5-5-9 9"/>',
  upload: '<path d="M12 16V4"/><path d="m6 10 6-6 6 6"/><path d="M4 20h16"/>',
  download: '<path d="M12 4v12"/><path d="m6 10 6 6 6-6"/><path d="M4 20h16"/>',
  trash: '<path d="M4 7h16"/><path d="M9 7V4h6v3"/><path d="M6 7l1 13h10l1-13"/>',
  plus: '<path d="M12 5v14M5 12h14"/>',
  refresh: '<path d="M20 11a8 8 0 1 0-2.3 5.7"/><path d="M20 4v7h-7"/>',
  chart: '<path d="M4 20V4"/><path d="M4 20h16"/><rect x="7" y="11" width="3" height="6"/><rect x="12" y="7" width="3" height="10"/><rect x="17" y="13" width="3" height="4"/>',
  logout: '<path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3"/><path d="M10 16l-4-4 4-4"/><path d="M6 12h10"/>',
  sparkles: '<path d="M12 3l1.8 4.7L18.5 9.5l-4.7 1.8L12 16l-1.8-4.7L5.5 9.5l4.7-1.8L12 3Z"/><path d="M19 15l.8 2.2L22 18l-2.2.8L19 21l-.8-2.2L16 18l2.2-.8L19 15Z"/>',
  save: '<path d="M5 3h11l5 5v11a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2Z"/><path d="M7 3v6h8V3"/><path d="M7 21v-7h10v7"/>',
  back: '<path d="M15 18l-6-6 6-6"/>',
  chevron: '<path d="M9 6l6 6-6 6"/>',
  x: '<path d="M6 6l12 12M18 6 6 18"/>',
  check: '<path d="M5 12l5 5 9-10"/>',
  alert: '<circle cx="12" cy="12" r="9"/><path d="M12 7v6M12 16.5v.5"/>',
  key: '<circle cx="8" cy="15" r="4"/><path d="M11 12l9-9M16 7l3 3"/>',
  face: '<rect x="3" y="3" width="18" height="18" rx="3"/><circle cx="9" cy="10" r="1"/><circle cx="15" cy="10" r="1"/><path d="M9 15c1.7 1.3 4.3 1.3 6 0"/>',
  home: '<path d="M3 11l9-7 9 7"/><path d="M5 10v10h14V10"/>',
  search: '<circle cx="11" cy="11" r="6.5"/><path d="m16 16 4.5 4.5"/>',
  cut: '<circle cx="6" cy="6" r="3"/><circle cx="6" cy="18" r="3"/><path d="M8.1 8.1 20 20M8.1 15.9 20 4"/>',
  link: '<path d="M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1"/><path d="M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1"/>',
};

export function icon(name, cls = "") {
  const span = document.createElement("span");
  span.className = `icon ${cls}`.trim();
  span.setAttribute("aria-hidden", "true");
  span.innerHTML = `<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${ICONS[name] || ""}</svg>`;
  return span;
}

export function button(label, { kind = "", iconName, on, title, id, type = "button", disabled } = {}) {
  const classes = kind ? "." + kind.trim().split(/\s+/).join(".") : "";
  return h(`button.btn${classes}`, { type, title, id, disabled, on: on ? { click: on } : undefined },
    iconName ? icon(iconName) : null, label ? h("span", label) : null);
}

export function formatBytes(n) {
  if (!Number.isFinite(n)) return "–";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n, i = -1;
  do { v /= 1024; i++; } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || "";
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function debounce(fn, ms) {
  let t;
  const wrapped = (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  wrapped.cancel = () => clearTimeout(t);
  return wrapped;
}

export function isImageKey(key) {
  return /\.(jpe?g|png|webp|bmp|tiff?)$/i.test(key);
}

export function errorText(err) {
  if (!err) return "Unknown error";
  if (typeof err.code === "string" && err.message && err.message !== err.code) return `${err.code}: ${err.message}`;
  return err.message || String(err);
}

const VERBS = {
  "cos:GetService": "list buckets", "cos:PutBucket": "create buckets", "cos:DeleteBucket": "delete this bucket",
  "cos:GetBucket": "list the objects in this bucket", "cos:HeadBucket": "open this bucket",
  "cos:PutObject": "upload here", "cos:GetObject": "open or download this object", "cos:HeadObject": "check this object",
  "cos:DeleteObject": "delete this object", "ci:CreateAIFaceBeautifyJob": "run AI face beauty",
  "ci:FaceEffect": "run face effects", "ci:CreateFaceEffectJob": "run face effects",
  "cos:InitiateMultipartUpload": "upload large files here", "cos:UploadPart": "upload large files here",
};

/** A sentence a person can act on, for an API error (the technical detail is in errorDetails). */
export function humanError(err, doing = "") {
  if (!err) return "Something went wrong.";
  const what = doing ? ` ${doing}` : "";
  const action = /(?:cos|ci):[A-Za-z]+/.exec(err.message || "");
  switch (err.code) {
    case "AccessDenied":
      return action && VERBS[action[0]] ? `You don't have permission to ${VERBS[action[0]]}.`
        : `You don't have permission to do this${what ? " (" + doing + ")" : ""}.`;
    case "InvalidAccessKeyId": return "This SecretId is not known to the server.";
    case "SignatureDoesNotMatch": return "The SecretKey does not match this SecretId.";
    case "NoSuchBucket": return "This bucket does not exist (it may have been deleted).";
    case "NoSuchKey": case "NotFound": return "This object does not exist (it may have been deleted or renamed).";
    case "BucketAlreadyExists": case "BucketAlreadyOwnedByYou": return "A bucket with this name already exists.";
    case "BucketNotEmpty": return "The bucket is not empty. Empty it first (this deletes every object in it).";
    case "InvalidBucketName": return "That is not a valid bucket name.";
    case "NetworkError": return "The server could not be reached. Check your connection and try again.";
    case "SlowDown": return "The server is busy right now. Please try again in a moment.";
    case "EntityTooLarge": return "The file is too large for the server.";
    case "InvalidImageFormat": return "This object is not an image that can be processed.";
    case "ImageTooLarge": return "The image is too large for this kind of processing.";
    case "NoSuchCIBucket": case "CINotEnabled": return "Cloud Infinite is not switched on for this bucket.";
    case "AIRecognitionNotEnabled": return "AI face beauty is not switched on for this bucket.";
    case "RequestTimeTooSkewed": return "Your computer's clock is too far off the server's.";
    case "ExpiredToken": return "Your temporary keys have expired; please sign in again.";
    default:
      return err.status >= 500 ? `The server failed${what ? " to " + doing : ""}. Please try again.`
        : `That did not work${what ? " (" + doing + ")" : ""}.`;
  }
}

/** The technical detail of an error, as "Code: message · request id". */
export function errorDetails(err) {
  if (!err) return "";
  return [err.status ? `HTTP ${err.status}` : "", errorText(err), err.requestId ? `Request ${err.requestId}` : ""]
    .filter(Boolean).join("\n");
}

/** A human sentence plus a "Details" toggle with the technical text. */
export function errorBlock(err, doing = "", cls = "error-msg") {
  return h(`div.${cls}`, h("p.error-sentence", humanError(err, doing)),
    h("details.error-details", h("summary", "Details"), h("pre", errorDetails(err))));
}

// -- toasts -----------------------------------------------------------------------------------
const MAX_TOASTS = 3;
export function toast(message, kind = "info", ms = 4000) {
  let host = document.getElementById("toasts");
  if (!host) { host = h("div#toasts", { role: "status", "aria-live": "polite" }); document.body.append(host); }
  const isError = kind === "error";
  const body = message instanceof Node ? message : h("span", message);
  const el = h(`div.toast.${kind}`, icon(isError ? "alert" : "check"), body,
    h("button.icon-btn.toast-close", { type: "button", "aria-label": "Dismiss", on: { click: () => el.remove() } }, icon("x")));
  host.append(el);
  while (host.children.length > MAX_TOASTS) host.firstChild.remove();
  const later = () => { el.classList.add("leaving"); setTimeout(() => el.remove(), 250); };
  let timer = setTimeout(later, isError ? Math.max(ms, 8000) : ms);
  el.addEventListener("pointerenter", () => clearTimeout(timer));
  el.addEventListener("focusin", () => clearTimeout(timer));
  el.addEventListener("pointerleave", () => { timer = setTimeout(later, 3000); });
  return el;
}

/** An error toast: a sentence, the technical detail behind "Details". */
export function errorToast(err, doing = "") {
  return toast(errorBlock(err, doing, "toast-error"), "error", 8000);
}

// -- dialogs ----------------------------------------------------------------------------------
const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
const openDialogs = [];

/** A modal dialog: focus stays inside (Tab wraps), Esc or the close button closes it, and focus
 *  returns to the element that opened it. */
export function dialog({ title, body, actions, onClose, closable = true }) {
  const opener = document.activeElement;
  const canClose = typeof closable === "function" ? closable : () => closable;
  const backdrop = h("div.backdrop");
  const titleId = `dlg-${Math.random().toString(36).slice(2, 8)}`;
  let closed = false;
  const close = (value) => {
    if (closed) return;
    closed = true;
    backdrop.remove();
    document.removeEventListener("keydown", onKey, true);
    openDialogs.splice(openDialogs.indexOf(box), 1);
    if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
    onClose && onClose(value);
  };
  const onKey = (e) => {
    if (openDialogs[openDialogs.length - 1] !== box) return;
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      if (canClose()) close(null);
    } else if (e.key === "Tab") {
      const items = [...box.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null || el === document.activeElement);
      if (!items.length) { e.preventDefault(); box.focus(); return; }
      const first = items[0], last = items[items.length - 1];
      if (!box.contains(document.activeElement)) { e.preventDefault(); first.focus(); }
      else if (e.shiftKey && (document.activeElement === first || document.activeElement === box)) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
    }
  };
  document.addEventListener("keydown", onKey, true);
  backdrop.addEventListener("mousedown", (e) => { if (e.target === backdrop && canClose()) close(null); });
  const box = h("div.dialog", { role: "dialog", "aria-modal": "true", "aria-labelledby": titleId, tabindex: "-1" },
    h("div.dialog-head", h(`h2#${titleId}`, title),
      closable ? h("button.icon-btn.dialog-close", { type: "button", "aria-label": "Close", title: "Close",
        on: { click: () => { if (canClose()) close(null); } } }, icon("x")) : null),
    h("div.dialog-body", body),
    h("div.dialog-actions", actions(close)));
  backdrop.append(box);
  document.body.append(backdrop);
  openDialogs.push(box);
  const first = box.querySelector(".dialog-body input, .dialog-body select, .dialog-body textarea");
  (first || box.querySelector(".dialog-actions .btn.primary, .dialog-actions .btn") || box).focus();
  box._close = close;
  return close;
}

export function confirmDialog(title, message, { okLabel = "Delete", danger = true, cancelLabel = "Cancel" } = {}) {
  return new Promise((resolve) => {
    dialog({
      title, body: message instanceof Node ? message : h("p", message), onClose: (v) => resolve(Boolean(v)),
      actions: (close) => [
        button(cancelLabel, { on: () => close(false), id: "confirm-cancel" }),
        button(okLabel, { kind: danger ? "danger" : "primary", on: () => close(true), id: "confirm-ok" }),
      ],
    });
  });
}

/** Close every open dialog (sign-out, route change). */
export function closeAllDialogs() {
  for (const box of [...openDialogs].reverse()) box._close(null);
}

/** Explain why a control is unavailable: disabled, with the reason as its description. */
export function denyControl(el, reason) {
  if (!el) return;
  el.disabled = true;
  el.setAttribute("aria-disabled", "true");
  el.title = reason;
  el.dataset.denied = reason;
}
