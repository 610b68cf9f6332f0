// The beauty studio for one image: before/after with a draggable split and two modes:
//   * "AI beauty (strength)": a strength slider that re-requests ci-process=AIFaceBeauty;
//   * "Face effect": four sliders (whitening, smoothing, face slimming, eye enlarging, 0..100) that
//     re-request ci-process=face-effect&type=face-beautify (the XML reply's base64 ResultImage is
//     decoded into a blob URL), and a "Cut-out" (type=face-segmentation) shown on a checkerboard.
// Previews are debounced and a newer request aborts the older one. Face boxes, and "save as new
// object" (POST ?image_process with Pic-Operations) with the rule that is chosen. Saving never
// silently replaces an object: the default key is one that does not exist yet (checked with HEAD),
// and any existing target needs an explicit "Replace". Save is only offered when there is a result
// worth saving (a face was found, AI is on, the keys may write here); otherwise the studio says why,
// and controls that cannot work (AI off, a permission missing, a format face-effect refuses) are
// disabled with the reason next to them.

import { h, icon, button, clear, toast, formatBytes, errorBlock, humanError, debounce, confirmDialog } from "../ui.js";
import { AbortError, sniffImageType } from "../api.js";
import { enableAiButton } from "./ci.js";

const PRESETS = [["Off", 0], ["Natural", 0.3], ["Balanced", 0.5], ["Strong", 0.8]];
const DEBOUNCE_MS = 250;
// face-effect&type=face-beautify: Tencent's parameter, our label, the API's default (docs/ci.md)
const LEVELS = [["whitening", "Whitening", 30], ["smoothing", "Smoothing", 10],
  ["faceLifting", "Face slimming", 70], ["eyeEnlarging", "Eye enlarging", 70]];
const EFFECT_TYPES = ["image/jpeg", "image/png", "image/bmp"];     // face-effect takes PNG, JPEG and BMP
const EFFECT_MAX_BYTES = 3932160;                                 // 5 MB once base64 encoded
const CUTOUT_MAX_SIDE = 2000;                                     // segmentation: both sides under 2000 px
const AI_OFF_CODES = ["AIRecognitionNotEnabled", "NoSuchCIBucket", "CINotEnabled"];

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
  const busyLabel = h("span", "Beautifying…");
  const busy = h("div.cmp-busy", { hidden: true }, h("span.spinner"), busyLabel);
  const notice = h("div.cmp-notice", { hidden: true });
  const afterTag = h("span.cmp-tag.right#after-tag", "After");
  const compare = h("div.compare#compare", { dataset: { state: "loading", mode: "strength", kind: "strength" } },
    before, afterClip, faceLayer, divider,
    h("span.cmp-tag.left", "Before"), afterTag, busy);
  const stage = h("div.stage", compare, notice);

  // -- controls ------------------------------------------------------------------------------
  let mode = "strength";                  // "strength" (AIFaceBeauty) | "effect" (face-effect)
  let cutout = false;                     // in effect mode: show the portrait cut-out instead
  const modeRadio = (value, label) => h("label.seg-option", h("input.visually-hidden", { type: "radio", name: "studio-mode",
    id: `mode-${value}`, value, checked: value === mode, on: { change: (e) => { if (e.target.checked) setMode(value); } } }),
  h("span", label));
  const modeGroup = h("fieldset.segmented#studio-mode", h("legend.visually-hidden", "Editing mode"),
    modeRadio("strength", "AI beauty (strength)"), modeRadio("effect", "Face effect"));

  const slider = h("input#strength", { type: "range", min: "0", max: "1", step: "0.05", value: "0.5",
    "aria-label": "Strength", "aria-describedby": "strength-hint" });
  const strengthValue = h("output.value-pill#strength-value", { for: "strength" }, "0.50");
  const presets = h("div.chips", PRESETS.map(([label, v]) => h("button.chip", { type: "button", dataset: { value: String(v) },
    on: { click: () => { slider.value = String(v); onStrength(); } } }, label)));
  const strengthHint = h("p.save-hint.control-hint#strength-hint", { hidden: true });

  const levels = Object.fromEntries(LEVELS.map(([n, , d]) => [n, d]));
  const fxSliders = {};
  const fxRows = LEVELS.map(([n, label, d]) => {
    const input = h(`input.fx-slider#fx-${n}`, { type: "range", min: "0", max: "100", step: "1", value: String(d),
      dataset: { param: n, default: String(d) }, "aria-describedby": "effect-hint" });
    const out = h(`output.value-pill#fx-${n}-value`, { for: `fx-${n}` }, String(d));
    input.addEventListener("input", () => onLevel(n));
    fxSliders[n] = { input, out, label };
    return h("div.fx-row", h("div.slider-row", h("label", { for: `fx-${n}` }, label), out), input);
  });
  const resetBtn = button("Defaults", { kind: "ghost small", iconName: "refresh", id: "fx-reset",
    title: "Back to the API's defaults (30 / 10 / 70 / 70)", on: () => resetLevels() });
  const cutoutBtn = h("button.btn.ghost.grow#fx-cutout", { type: "button", "aria-pressed": "false",
    "aria-describedby": "effect-hint", on: { click: () => toggleCutout() } }, icon("cut"), h("span", "Cut-out (portrait segmentation)"));
  const effectHint = h("p.save-hint.control-hint#effect-hint", { hidden: true });

  const showFaces = h("input#show-faces", { type: "checkbox", checked: true,
    on: { change: () => faceLayer.classList.toggle("hidden", !showFaces.checked) } });
  const stat = (label, id) => h("div.kv", h("span.kv-label", label), h(`span.kv-value#${id}`, "–"));
  const saveKey = h("input#save-key", { spellcheck: "false", autocomplete: "off" });
  const saveBtn = button("Save as new object", { kind: "primary grow", iconName: "save", id: "save-result", on: () => save() });
  const saveResult = h("div.save-result#save-status");
  const saveHint = h("p.save-hint#save-hint", { "aria-live": "polite" });
  const saveRule = h("p.muted.save-rule#save-rule");
  const creds = (ctx.session && ctx.session.load()) || {};
  const downloadBtn = h("button.btn.ghost.square#download-result", { type: "button", title: "Download the result",
    "aria-label": "Download the result", on: { click: () => downloadResult() } }, icon("download"));

  const strengthSection = h("div#strength-controls",
    h("div.slider-row", h("label", { for: "strength" }, "Strength"), strengthValue),
    slider,
    h("div.slider-scale", { "aria-hidden": "true" }, h("span", "0"), h("span", "0.5"), h("span", "1")),
    presets, strengthHint);
  const effectSection = h("div#effect-controls", { hidden: true },
    h("div.fx-head", h("span.muted", "0 = off · 100 = strongest"), resetBtn),
    fxRows, cutoutBtn, effectHint);

  const panel = h("aside.side-panel",
    h("div.panel-section",
      h("div.panel-title", icon("sparkles"), h("h2.panel-heading", "AI face beauty")),
      modeGroup, strengthSection, effectSection),
    h("div.panel-section",
      h("label.switch", showFaces, h("span.switch-track"), h("span", "Show face boxes")),
      h("div.kvs", stat("Faces", "faces-count"), stat("Dimensions", "image-size"), stat("Original", "original-bytes"),
        stat("Result", "result-bytes"), stat("Processed in", "process-ms"))),
    h("div.panel-section",
      h("div.panel-title", icon("save"), h("h2.panel-heading", "Save result")),
      h("div.field", h("label", { for: "save-key" }, "New object key"), saveKey),
      saveRule,
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
    handle.setAttribute("aria-valuetext", `${Math.round(split)}% original, ${100 - Math.round(split)}% result`);
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

  // -- what is asked for -------------------------------------------------------------------------
  let size = null;
  let original = null;                    // {type, bytes} of the photo
  let resultBlob = null;
  let afterUrl = null;
  let inflight = null;
  let seq = 0;

  const fmt = (v) => Number(v).toFixed(2);
  const stem = name.replace(/\.[^.]+$/, "");
  const ext = (name.match(/\.[^.]+$/) || [".jpg"])[0];
  /** The request the controls describe now: kind, rule (Pic-Operations spelling), key suffix. */
  function chosen() {
    if (mode === "strength") {
      const s = fmt(slider.value);
      return { kind: "strength", strength: s, rule: `ci-process=AIFaceBeauty&strength=${s}`,
        tag: `_beauty_${String(Math.round(Number(slider.value) * 100)).padStart(2, "0")}`, ext };
    }
    if (cutout) return { kind: "cutout", type: "face-segmentation", rule: "ci-process=face-effect&type=face-segmentation", tag: "_cutout", ext: ".png" };
    const lv = { ...levels };
    return { kind: "effect", type: "face-beautify", levels: lv,
      rule: "ci-process=face-effect&type=face-beautify&" + LEVELS.map(([n]) => `${n}=${lv[n]}`).join("&"),
      tag: `_effect_${LEVELS.map(([n]) => lv[n]).join("-")}`, ext };
  }
  const baseKey = (n) => { const c = chosen(); return `${dir}${stem}${c.tag}${n > 1 ? `-${n}` : ""}${c.ext}`; };

  let keyEdited = false;
  let keySeq = 0;
  /** The first of name_<tag>.ext, name_<tag>-2.ext, ... that does not exist (HEAD). */
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
  const syncKey = () => {
    saveRule.textContent = `Rule: ${chosen().rule}`;
    if (!keyEdited) { saveKey.value = baseKey(1); refreshKey(); }
  };
  const syncStrength = () => {
    strengthValue.textContent = fmt(slider.value);
    slider.setAttribute("aria-valuetext", `${fmt(slider.value)} of 1`);
    slider.style.setProperty("--fill", `${Number(slider.value) * 100}%`);
    for (const c of presets.children) c.classList.toggle("active", Number(c.dataset.value) === Number(slider.value));
    syncKey();
  };
  const syncLevels = () => {
    for (const [n] of LEVELS) {
      const { input, out } = fxSliders[n];
      const v = Number(input.value);
      out.textContent = String(v);
      input.setAttribute("aria-valuetext", `${v} of 100${v === Number(input.dataset.default) ? " (default)" : ""}${v === 0 ? ", off" : ""}`);
      input.style.setProperty("--fill", `${v}%`);
    }
    syncKey();
  };
  syncStrength();
  syncLevels();

  // -- what is allowed, and why not ----------------------------------------------------------------
  // Save needs a processed result with a face in it (a cut-out: a person), and permission to write here.
  const why = { result: "Waiting for the beautified result…", faces: "", person: "" };
  const perm = { put: true, beauty: true, effect: true };
  let aiOff = false;
  let facesFound = null;
  let personFound = null;
  const aiOffText = "AI is switched off for this bucket (see the notice on the image).";
  /** Why a kind of request cannot be made now ("" = it can). */
  function blocked(kind) {
    if (kind === "strength") {
      if (!perm.beauty) return "Your keys may not run AI face beauty (ci:CreateAIFaceBeautifyJob).";
      return aiOff ? aiOffText : "";
    }
    if (!perm.effect) return "Your keys may not run face effects (ci:FaceEffect).";
    if (aiOff) return aiOffText;
    if (original && !EFFECT_TYPES.includes(original.type)) {
      return `Face effect takes JPEG, PNG or BMP photos; this one is ${original.type ? original.type.replace("image/", "").toUpperCase() : "in another format"}. Use AI beauty (strength) instead.`;
    }
    if (original && original.bytes > EFFECT_MAX_BYTES) {
      return `Face effect takes photos of at most ${formatBytes(EFFECT_MAX_BYTES)}; this one is ${formatBytes(original.bytes)}.`;
    }
    if (kind === "cutout" && size && Math.max(size.w, size.h) >= CUTOUT_MAX_SIDE) {
      return `The cut-out needs both sides under ${CUTOUT_MAX_SIDE} px; this photo is ${size.w} × ${size.h}.`;
    }
    return "";
  }
  const setDenied = (el, reason) => {
    el.disabled = Boolean(reason);
    if (reason) { el.setAttribute("aria-disabled", "true"); el.title = reason; el.dataset.denied = reason; }
    else { el.removeAttribute("aria-disabled"); el.removeAttribute("title"); delete el.dataset.denied; }
  };
  let stopped = false;
  /** Enable or disable the controls and say why, next to them. */
  function syncControls() {
    const s = stopped ? "There is no image to work on." : blocked("strength");
    setDenied(slider, s);
    for (const c of presets.children) setDenied(c, s);
    strengthHint.textContent = s;
    strengthHint.hidden = !s;
    const e = stopped ? "There is no image to work on." : blocked("effect");
    for (const [n] of LEVELS) setDenied(fxSliders[n].input, e);
    setDenied(resetBtn, e);
    const c = e || blocked("cutout");
    setDenied(cutoutBtn, c);
    effectHint.textContent = e || (c ? c : "");
    effectHint.hidden = !(e || c);
    effectHint.dataset.reason = e ? "effect" : c ? "cutout" : "";
  }

  function syncSave() {
    const c = chosen();
    const denied = !perm.put ? "Your keys may not save objects in this folder (cos:PutObject)."
      : c.kind === "strength" && !perm.beauty ? "Your keys may not run AI face beauty (ci:CreateAIFaceBeautifyJob)."
        : c.kind !== "strength" && !perm.effect ? "Your keys may not run face effects (ci:FaceEffect)." : "";
    const reason = denied || why.result || (c.kind === "cutout" ? why.person : why.faces);
    saveBtn.disabled = Boolean(reason);
    if (denied) { saveBtn.title = denied; saveBtn.dataset.denied = denied; }
    else { saveBtn.removeAttribute("title"); delete saveBtn.dataset.denied; }
    saveHint.textContent = reason;
    saveHint.hidden = !reason;
    downloadBtn.disabled = Boolean(why.result) || !resultBlob;
  }
  syncControls();
  syncSave();

  // -- notes on the stage: no face, nobody in the cut-out -------------------------------------------
  const noFaceText = h("p");
  const noFace = h("div.stage-note#no-face", { hidden: true, role: "status" }, icon("face"),
    h("div", h("strong", "No face found"), noFaceText));
  const noPerson = h("div.stage-note#no-person", { hidden: true, role: "status" }, icon("face"),
    h("div", h("strong", "Nobody found"),
      h("p", "The portrait cut-out found no person in this photo, so it is fully transparent. " +
        "Try a photo where a person is clearly visible.")));
  stage.append(noFace, noPerson);
  function syncNotes() {
    const kind = chosen().kind;
    noFaceText.textContent = kind === "strength"
      ? "AI face beauty only changes faces, and none was found in this photo, so the result is the same as the original. " +
        "Try a photo where a face is clearly visible (front-facing, not too small)."
      : "Face effects only change faces, and none was found in this photo, so the result is the same as the original. " +
        "The cut-out (portrait segmentation) still works on people whose face is not visible.";
    const quiet = stopped || !notice.hidden;        // a failure notice says more; the two would overlap
    noFace.hidden = !(facesFound === 0 && kind !== "cutout" && !quiet);
    noPerson.hidden = !(personFound === false && kind === "cutout" && !quiet);
    compare.dataset.noFace = String(!noFace.hidden);
  }

  async function loadOriginal() {
    const { blob } = await client.getObjectBlob(bucket, key);
    const head = new Uint8Array(await blob.slice(0, 12).arrayBuffer());
    original = { type: sniffImageType(head), bytes: blob.size };
    compare.dataset.format = original.type;
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
    syncControls();
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
      if (!facesFound) why.faces = "No face was found, so the result would equal the original: there is nothing to save.";
      syncNotes();
      syncSave();
    } catch (err) {
      document.getElementById("faces-count").textContent = "–";
      compare.dataset.faces = "error";
    }
  }

  /** Whether a cut-out's mask holds anyone (any pixel clearly above 0, looked at on a small copy). */
  async function maskHasPerson(maskBlob) {
    try {
      const bmp = await createImageBitmap(maskBlob);
      const w = Math.max(1, Math.min(128, bmp.width)), hh = Math.max(1, Math.min(128, bmp.height));
      const canvas = document.createElement("canvas");
      canvas.width = w;
      canvas.height = hh;
      const g = canvas.getContext("2d", { willReadFrequently: true });
      g.drawImage(bmp, 0, 0, w, hh);
      bmp.close();
      const px = g.getImageData(0, 0, w, hh).data;
      for (let i = 0; i < px.length; i += 4) if (px[i] > 8) return true;
      return false;
    } catch {
      return null;        // cannot tell: say nothing
    }
  }

  /** Nothing can be asked for now: show the original on both sides and say why (next to the controls). */
  function showBlocked(reason) {
    seq++;
    if (inflight) { inflight.abort(); inflight = null; }
    busy.hidden = true;
    after.src = before.src;
    resultBlob = null;
    compare.dataset.state = "blocked";
    why.result = `${reason} There is nothing to save.`;
    syncSave();
  }

  async function process() {
    if (stopped) return;
    const req = chosen();
    const reason = blocked(req.kind);
    if (reason) { showBlocked(reason); return; }
    const mine = ++seq;
    if (inflight) inflight.abort();
    inflight = new AbortController();
    busyLabel.textContent = req.kind === "cutout" ? "Cutting out…" : "Beautifying…";
    busy.hidden = false;
    compare.dataset.state = "processing";
    const t0 = performance.now();
    try {
      let blob, mask = null;
      if (req.kind === "strength") ({ blob } = await client.processed(bucket, key, req.strength, inflight.signal));
      else ({ image: blob, mask } = await client.faceEffect(bucket, key, req.type, req.levels, inflight.signal));
      if (mine !== seq) return;
      const url = objectUrl(blob);
      after.src = url;
      await after.decode().catch(() => {});
      if (mine !== seq) { drop(url); return; }
      drop(afterUrl);
      afterUrl = url;
      resultBlob = blob;
      notice.hidden = true;
      document.getElementById("process-ms").textContent = `${Math.round(performance.now() - t0)} ms`;
      document.getElementById("result-bytes").textContent = formatBytes(blob.size);
      compare.classList.toggle("cutout", req.kind === "cutout");
      afterTag.textContent = req.kind === "cutout" ? "Cut-out" : "After";
      after.alt = req.kind === "cutout" ? "Portrait cut-out on a transparent background" : "Beautified";
      after.dataset.strength = req.strength || "";
      if (req.strength) compare.dataset.strength = req.strength;
      compare.dataset.kind = req.kind;
      compare.dataset.rule = req.rule;
      compare.dataset.resultBytes = String(blob.size);
      personFound = req.kind === "cutout" && mask ? await maskHasPerson(mask) : null;
      if (mine !== seq) return;
      why.person = personFound === false ? "Nobody was found, so the cut-out is empty: there is nothing to save." : "";
      compare.dataset.person = personFound === null ? "" : String(personFound);
      compare.dataset.state = "ready";
      why.result = "";
      syncNotes();
      syncSave();
    } catch (err) {
      if (err instanceof AbortError || mine !== seq) return;
      compare.dataset.state = "error";
      if (AI_OFF_CODES.includes(err.code)) {
        aiOff = true;
        syncControls();
        why.result = req.kind === "strength" ? "AI face beauty is off for this bucket, so there is no result to save."
          : "Face effects need AI, which is off for this bucket, so there is no result to save.";
      } else {
        why.result = "There is no result to save: processing failed.";
      }
      syncSave();
      showNotice(err, req.kind);
    } finally {
      if (mine === seq) { busy.hidden = true; inflight = null; }
    }
  }

  function showNotice(err, kind) {
    const needsCi = AI_OFF_CODES.includes(err.code);
    const doing = kind === "strength" ? "beautify the image" : kind === "cutout" ? "cut out the portrait" : "apply the face effect";
    clear(notice, icon("alert"), h("div",
      h("strong", needsCi ? (kind === "strength" ? "AI face beauty is off for this bucket" : "AI is off for this bucket, so face effects are too")
        : "Processing failed"),
      errorBlock(err, doing),
      needsCi ? enableAiButton(client, bucket, () => { aiOff = false; syncControls(); process(); }, Boolean(creds.root)) : null));
    notice.hidden = false;
    syncNotes();
  }

  const debounced = debounce(process, DEBOUNCE_MS);
  function onStrength() { syncStrength(); debounced(); }
  slider.addEventListener("input", onStrength);
  function onLevel(n) {
    levels[n] = Number(fxSliders[n].input.value);
    if (cutout) setCutout(false);
    syncLevels();
    syncNotes();
    syncSave();
    debounced();
  }
  function resetLevels() {
    for (const [n, , d] of LEVELS) { fxSliders[n].input.value = String(d); levels[n] = d; }
    if (cutout) setCutout(false);
    syncLevels();
    syncNotes();
    syncSave();
    debounced();
  }
  function setCutout(on) {
    cutout = on;
    cutoutBtn.setAttribute("aria-pressed", String(on));
    cutoutBtn.classList.toggle("active", on);
  }
  function toggleCutout() {
    setCutout(!cutout);
    syncKey();
    syncNotes();
    syncSave();
    debounced.cancel();
    process();
  }
  function setMode(next) {
    if (next === mode) return;
    mode = next;
    compare.dataset.mode = mode;
    strengthSection.hidden = mode !== "strength";
    effectSection.hidden = mode !== "effect";
    syncKey();
    syncNotes();
    syncSave();
    debounced.cancel();
    process();
  }

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
    const rule = chosen().rule;            // what the controls say now (the preview shows the same)
    if (!(await confirmTarget(fileid))) { clear(saveResult, h("p.muted#save-cancelled", "Not saved.")); return; }
    saveBtn.disabled = true;
    saveBtn.classList.add("busy");
    clear(saveResult);
    try {
      const res = await client.saveProcessed(bucket, key, fileid, rule);
      const parent = fileid.includes("/") ? fileid.slice(0, fileid.lastIndexOf("/") + 1) : "";
      clear(saveResult, h("div.saved#saved-ok", { dataset: { rule } }, icon("check"), h("div",
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
    stopped = true;
    compare.dataset.state = state;
    clear(stage, h(`div.stage-message#stage-message`, { dataset: { state }, role: "alert" }, icon("alert"),
      h("h2", heading), body,
      h("a.btn.ghost", { href: objectsHash(bucket, dir) }, icon("back"), h("span", "Back to the folder"))));
    stage.dataset.state = state;
    syncControls();
    why.result = heading + ": there is nothing to save.";
    syncSave();
  };
  if (!creds.root) {
    client.permissions([{ action: "cos:PutObject", bucket, key: dir }, { action: "ci:CreateAIFaceBeautifyJob", bucket, key },
      { action: "ci:FaceEffect", bucket, key }])
      .then((res) => {
        [perm.put, perm.beauty, perm.effect] = res.results.map((r) => r.allowed);
        compare.dataset.perm = JSON.stringify(perm);
        syncControls();
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
