// The beauty studio for one image: before/after with a draggable split, a strength slider that
// re-requests ci-process=AIFaceBeauty (debounced), face boxes, and "save as new object"
// (POST ?image_process with Pic-Operations). Saving never silently replaces an object: the default
// key is one that does not exist yet (checked with HEAD), and any existing target needs an explicit
// "Replace". Save is only offered when there is a result worth saving (a face was found, AI is on,
// the keys may write here); otherwise the studio says why.

import { h, icon, button, clear, toast, formatBytes, errorBlock, humanError, debounce, confirmDialog, denyControl } from "../ui.js";
import { AbortError } from "../api.js";
import { enableAiButton } from "./ci.js";

const PRESETS = [["Off", 0], ["Natural", 0.3], ["Balanced", 0.5], ["Strong", 0.8]];
const DEBOUNCE_MS = 250;

export async function renderBeauty(ctx, bucket, key) {
  const { client, content, setHeader, objectsHash } = ctx;
  const dir = key.includes("/") ? key.slice(0, key.lastIndexOf("/") + 1) : "";
  const name = key.slice(dir.length);
  const crumbs = [{ label: "Buckets", hash: "#/buckets" }, { label: bucket, hash: objectsHash(bucket) }];
  let acc = "";
  for (const seg of dir.split("/").filter(Boolean)) { acc += seg + "/"; crumbs.push({ label: seg, hash: objectsHash(bucket, acc) }); }
  crumbs.push({ label: name });
  setHeader(crumbs, [
    button("Back", { kind: "ghost", iconName: "back", on: () => ctx.navigate(objectsHash(bucket, dir)) }),
  ]);

  const urls = new Set();
  const objectUrl = (blob) => { const u = URL.createObjectURL(blob); urls.add(u); return u; };
  const drop = (u) => { if (u) { URL.revokeObjectURL(u); urls.delete(u); } };

  // -- stage -------------------------------------------------------------------------------
  const before = h("img.cmp-img.before-img#before-img", { alt: "Original", draggable: false });
  const after = h("img.cmp-img.after-img#after-img", { alt: "Beautified", draggable: false });
  const afterClip = h("div.after-clip", after);
  const faceLayer = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  faceLayer.classList.add("face-layer");
  faceLayer.setAttribute("preserveAspectRatio", "none");
  const handle = h("div.split-handle#split-handle", { role: "slider", tabindex: "0", "aria-label": "Before/after split",
    "aria-valuemin": "0", "aria-valuemax": "100" }, h("div.split-knob", icon("back"), icon("chevron")));
  const divider = h("div.split-line", handle);
  const busy = h("div.cmp-busy", { hidden: true }, h("span.spinner"), h("span", "Beautifying…"));
  const notice = h("div.cmp-notice", { hidden: true });
  const compare = h("div.compare#compare", { dataset: { state: "loading" } },
    before, afterClip, faceLayer, divider,
    h("span.cmp-tag.left", "Before"), h("span.cmp-tag.right", "After"), busy);
  const stage = h("div.stage", compare, notice);

  // -- controls ------------------------------------------------------------------------------
  const slider = h("input#strength", { type: "range", min: "0", max: "1", step: "0.05", value: "0.5",
    "aria-label": "Strength" });
  const strengthValue = h("output.value-pill#strength-value", "0.50");
  const presets = h("div.chips", PRESETS.map(([label, v]) => h("button.chip", { type: "button", dataset: { value: String(v) },
    on: { click: () => { slider.value = String(v); onStrength(); } } }, label)));
  const showFaces = h("input#show-faces", { type: "checkbox", checked: true,
    on: { change: () => faceLayer.classList.toggle("hidden", !showFaces.checked) } });
  const stat = (label, id) => h("div.kv", h("span.kv-label", label), h(`span.kv-value#${id}`, "–"));
  const saveKey = h("input#save-key", { spellcheck: "false", autocomplete: "off" });
  const saveBtn = button("Save as new object", { kind: "primary grow", iconName: "save", id: "save-result", on: () => save() });
  const saveResult = h("div.save-result#save-status");
  const saveHint = h("p.save-hint#save-hint", { "aria-live": "polite" });
  const creds = (ctx.session && ctx.session.load()) || {};
  const downloadBtn = h("button.btn.ghost.square#download-result", { type: "button", title: "Download the result",
    on: { click: () => downloadResult() } }, icon("download"));

  const panel = h("aside.side-panel",
    h("div.panel-section",
      h("div.panel-title", icon("sparkles"), h("span", "AI face beauty")),
      h("div.slider-row", h("label", { for: "strength" }, "Strength"), strengthValue),
      slider,
      h("div.slider-scale", h("span", "0"), h("span", "0.5"), h("span", "1")),
      presets),
    h("div.panel-section",
      h("label.switch", showFaces, h("span.switch-track"), h("span", "Show face boxes")),
      h("div.kvs", stat("Faces", "faces-count"), stat("Dimensions", "image-size"), stat("Original", "original-bytes"),
        stat("Result", "result-bytes"), stat("Processed in", "process-ms"))),
    h("div.panel-section",
      h("div.panel-title", icon("save"), h("span", "Save result")),
      h("div.field", h("label", { for: "save-key" }, "New object key"), saveKey),
      h("div.save-row", saveBtn, downloadBtn), saveHint, saveResult));

  clear(content,
    h("div.page-head", h("div.page-title", h("h1.break", name), h("p.muted.break", `${bucket}/${key}`))),
    h("div.studio", stage, panel));

  // -- split -------------------------------------------------------------------------------------
  let split = 50;
  const setSplit = (pct) => {
    split = Math.max(0, Math.min(100, pct));
    afterClip.style.clipPath = `inset(0 0 0 ${split}%)`;
    divider.style.left = `${split}%`;
    handle.setAttribute("aria-valuenow", String(Math.round(split)));
    compare.dataset.split = String(Math.round(split));
  };
  setSplit(50);
  const fromPointer = (e) => {
    const r = compare.getBoundingClientRect();
    setSplit(((e.clientX - r.left) / r.width) * 100);
  };
  let dragging = false;
  compare.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || e.target.closest("button, a, input")) return;
    dragging = true;
    compare.setPointerCapture(e.pointerId);
    compare.classList.add("dragging");
    fromPointer(e);
  });
  compare.addEventListener("pointermove", (e) => { if (dragging) fromPointer(e); });
  const stopDrag = () => { dragging = false; compare.classList.remove("dragging"); };
  compare.addEventListener("pointerup", stopDrag);
  compare.addEventListener("pointercancel", stopDrag);
  handle.addEventListener("keydown", (e) => {
    const step = e.shiftKey ? 10 : 2;
    if (e.key === "ArrowLeft") setSplit(split - step);
    else if (e.key === "ArrowRight") setSplit(split + step);
    else if (e.key === "Home") setSplit(0);
    else if (e.key === "End") setSplit(100);
    else return;
    e.preventDefault();
  });

  // -- data ----------------------------------------------------------------------------------------
  let size = null;
  let resultBlob = null;
  let afterUrl = null;
  let inflight = null;
  let seq = 0;

  const fmt = (v) => Number(v).toFixed(2);
  const baseKey = (n) => {
    const stem = name.replace(/\.[^.]+$/, "");
    const ext = (name.match(/\.[^.]+$/) || [".jpg"])[0];
    return `${dir}${stem}_beauty_${String(Math.round(Number(slider.value) * 100)).padStart(2, "0")}${n > 1 ? `-${n}` : ""}${ext}`;
  };
  let keyEdited = false;
  let keySeq = 0;
  /** The first of name_beauty_NN.ext, name_beauty_NN-2.ext, ... that does not exist (HEAD). */
  async function freeDefaultKey() {
    const mine = ++keySeq;
    saveKey.value = baseKey(1);
    saveKey.dataset.checked = "pending";
    for (let n = 1; n <= 50; n++) {
      const candidate = baseKey(n);
      let exists;
      try { exists = await client.objectExists(bucket, candidate); } catch { exists = null; }
      if (mine !== keySeq || keyEdited) return;
      if (exists === false || exists === null) {
        saveKey.value = candidate;
        saveKey.dataset.checked = exists === false ? "free" : "unknown";
        return;
      }
    }
  }
  const refreshKey = debounce(() => { if (!keyEdited) freeDefaultKey(); }, 150);
  saveKey.addEventListener("input", () => { keyEdited = true; keySeq++; saveKey.dataset.checked = "edited"; });
  const syncStrength = () => {
    strengthValue.textContent = fmt(slider.value);
    slider.style.setProperty("--fill", `${Number(slider.value) * 100}%`);
    for (const c of presets.children) c.classList.toggle("active", Number(c.dataset.value) === Number(slider.value));
    if (!keyEdited) { saveKey.value = baseKey(1); refreshKey(); }
  };
  syncStrength();

  // what Save needs: a processed result with a face in it, and permission to write here
  const why = { result: "Waiting for the beautified result…", faces: "", perm: "" };
  let facesFound = null;
  function syncSave() {
    const reason = why.perm || why.result || why.faces;
    saveBtn.disabled = Boolean(reason);
    saveHint.textContent = reason;
    saveHint.hidden = !reason;
    downloadBtn.disabled = Boolean(why.result);
  }
  syncSave();

  async function loadOriginal() {
    const { blob } = await client.getObjectBlob(bucket, key);
    before.src = objectUrl(blob);
    const decoded = await before.decode().then(() => true, () => false);
    if (!decoded || !before.naturalWidth) {
      const err = new Error("not an image");
      err.notImage = true;
      err.size = blob.size;
      throw err;
    }
    size = { w: before.naturalWidth, h: before.naturalHeight };
    compare.style.aspectRatio = `${size.w} / ${size.h}`;
    compare.style.maxWidth = `calc((100vh - 230px) * ${(size.w / size.h).toFixed(4)})`;
    faceLayer.setAttribute("viewBox", `0 0 ${size.w} ${size.h}`);
    document.getElementById("image-size").textContent = `${size.w} × ${size.h}`;
    document.getElementById("original-bytes").textContent = formatBytes(blob.size);
  }

  async function loadFaces() {
    try {
      const info = await client.faces(bucket, key);
      const w = info.width, hgt = info.height;
      faceLayer.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
      faceLayer.replaceChildren();
      const sw = Math.max(2, Math.round(Math.max(w, hgt) / 250));
      info.faces.forEach((f, i) => {
        const g = document.createElementNS("http://www.w3.org/2000/svg", "g");
        g.setAttribute("class", "face-box");
        const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
        for (const [k, v] of Object.entries({ x: f.x, y: f.y, width: f.width, height: f.height, rx: sw * 2 })) rect.setAttribute(k, v);
        rect.setAttribute("stroke-width", String(sw));
        const label = document.createElementNS("http://www.w3.org/2000/svg", "text");
        label.setAttribute("x", String(f.x + sw * 2));
        label.setAttribute("y", String(Math.max(f.y - sw * 3, sw * 8)));
        label.setAttribute("font-size", String(sw * 7));
        label.textContent = `Face ${i + 1} · ${Math.round(f.score * 100)}%`;
        g.append(rect, label);
        faceLayer.append(g);
      });
      document.getElementById("faces-count").textContent = String(info.faces.length);
      compare.dataset.faces = String(info.faces.length);
      facesFound = info.faces.length;
      if (!facesFound) {
        why.faces = "No face was found, so the result would equal the original: there is nothing to save.";
        noFace.hidden = false;
      }
      syncSave();
    } catch (err) {
      document.getElementById("faces-count").textContent = "–";
      compare.dataset.faces = "error";
    }
  }
  const noFace = h("div.stage-note#no-face", { hidden: true, role: "status" }, icon("face"),
    h("div", h("strong", "No face found"),
      h("p", "AI face beauty only changes faces, and none was found in this photo, so the result is the same as the original. " +
        "Try a photo where a face is clearly visible (front-facing, not too small).")));
  stage.append(noFace);

  async function process() {
    const strength = fmt(slider.value);
    const mine = ++seq;
    if (inflight) inflight.abort();
    inflight = new AbortController();
    busy.hidden = false;
    compare.dataset.state = "processing";
    const t0 = performance.now();
    try {
      const { blob } = await client.processed(bucket, key, strength, inflight.signal);
      if (mine !== seq) return;
      const url = objectUrl(blob);
      after.src = url;
      await after.decode().catch(() => {});
      drop(afterUrl);
      afterUrl = url;
      resultBlob = blob;
      notice.hidden = true;
      document.getElementById("process-ms").textContent = `${Math.round(performance.now() - t0)} ms`;
      document.getElementById("result-bytes").textContent = formatBytes(blob.size);
      after.dataset.strength = strength;
      compare.dataset.strength = strength;
      compare.dataset.state = "ready";
      why.result = "";
      syncSave();
    } catch (err) {
      if (err instanceof AbortError || mine !== seq) return;
      compare.dataset.state = "error";
      why.result = err.code === "AIRecognitionNotEnabled" || err.code === "NoSuchCIBucket" || err.code === "CINotEnabled"
        ? "AI face beauty is off for this bucket, so there is no result to save." : "There is no result to save: processing failed.";
      syncSave();
      showNotice(err);
    } finally {
      if (mine === seq) { busy.hidden = true; inflight = null; }
    }
  }

  function showNotice(err) {
    const needsCi = ["NoSuchCIBucket", "AIRecognitionNotEnabled", "CINotEnabled"].includes(err.code);
    clear(notice, icon("alert"), h("div",
      h("strong", needsCi ? "AI face beauty is off for this bucket" : "Processing failed"),
      errorBlock(err, "beautify the image"),
      needsCi ? enableAiButton(client, bucket, () => process(), Boolean(creds.root)) : null));
    notice.hidden = false;
  }

  const debounced = debounce(process, DEBOUNCE_MS);
  function onStrength() { syncStrength(); debounced(); }
  slider.addEventListener("input", onStrength);

  /** Ask before replacing anything: the image itself, or any object that exists under that key. */
  async function confirmTarget(fileid) {
    if (fileid === key) {
      return confirmDialog("Replace the original?", h("p", `“${fileid}” is the image you are editing. Saving would replace the original photo with the beautified one, and the original would be lost.`),
        { okLabel: "Replace the original", cancelLabel: "Keep the original" });
    }
    let exists;
    try { exists = await client.objectExists(bucket, fileid); } catch (err) {
      return confirmDialog("Save without checking?", h("div", h("p", `Could not check whether “${fileid}” already exists: ${humanError(err)}`),
        h("p", "If it does, saving replaces it.")), { okLabel: "Save anyway", cancelLabel: "Cancel" });
    }
    if (!exists) return true;
    return confirmDialog("Replace existing object?", h("p", `An object named “${fileid}” already exists. Saving replaces it, and its current content is lost.`),
      { okLabel: "Replace", cancelLabel: "Cancel" });
  }

  async function save() {
    const fileid = saveKey.value.trim().replace(/^\/+/, "");
    if (!fileid) { toast("Enter a key for the new object.", "error"); saveKey.focus(); return; }
    if (!(await confirmTarget(fileid))) { clear(saveResult, h("p.muted#save-cancelled", "Not saved.")); return; }
    saveBtn.disabled = true;
    saveBtn.classList.add("busy");
    clear(saveResult);
    try {
      const res = await client.saveProcessed(bucket, key, fileid, fmt(slider.value));
      const parent = fileid.includes("/") ? fileid.slice(0, fileid.lastIndexOf("/") + 1) : "";
      clear(saveResult, h("div.saved#saved-ok", icon("check"), h("div",
        h("strong", "Saved"), h("span.ellipsis", { title: res.key }, res.key),
        h("span.muted", [res.width && res.height ? `${res.width} × ${res.height}` : "", res.size ? formatBytes(res.size) : ""].filter(Boolean).join(" · ")),
        h("a#saved-open", { href: objectsHash(bucket, parent) }, "Show in bucket →"))));
      toast(`Saved ${res.key}`, "success");
      keyEdited = false;
      freeDefaultKey();
    } catch (err) {
      clear(saveResult, h("div.form-error", errorBlock(err, "save the result")));
    } finally {
      saveBtn.classList.remove("busy");
      syncSave();
    }
  }

  function downloadResult() {
    if (!resultBlob) return;
    const a = h("a", { href: afterUrl, download: saveKey.value.split("/").pop() || "beauty.jpg", hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
  }

  const stop = (state, heading, body) => {
    compare.dataset.state = state;
    clear(stage, h(`div.stage-message#stage-message`, { dataset: { state }, role: "alert" }, icon("alert"),
      h("h2", heading), body,
      h("a.btn.ghost", { href: objectsHash(bucket, dir) }, icon("back"), h("span", "Back to the folder"))));
    stage.dataset.state = state;
    slider.disabled = true;
    for (const c of presets.children) c.disabled = true;
    why.result = heading + ": there is nothing to save.";
    syncSave();
  };
  if (!creds.root) {
    client.permissions([{ action: "cos:PutObject", bucket, key: dir }, { action: "ci:CreateAIFaceBeautifyJob", bucket, key }])
      .then((res) => {
        const [put, ci] = res.results.map((r) => r.allowed);
        why.perm = !put ? "Your keys may not save objects in this folder (cos:PutObject)."
          : !ci ? "Your keys may not run AI face beauty (ci:CreateAIFaceBeautifyJob)." : "";
        if (why.perm) denyControl(saveBtn, why.perm);
        syncSave();
      }).catch(() => {});
  }
  try {
    await loadOriginal();
  } catch (err) {
    if (err.notImage) {
      stop("not-image", "This is not an image the studio can open",
        h("p", `“${name}” (${formatBytes(err.size)}) could not be decoded. AI face beauty works on JPEG, PNG, WebP, BMP and TIFF photos.`));
    } else if (err.status === 404) {
      stop("missing", "This object does not exist", h("p", `There is no “${key}” in ${bucket}. It may have been deleted or renamed.`));
    } else {
      stop("error", "Could not load the image", errorBlock(err, "open the image"));
    }
    return null;
  }
  loadFaces();
  process();

  return () => {
    debounced.cancel();
    if (inflight) inflight.abort();
    for (const u of urls) URL.revokeObjectURL(u);
  };
}
