// Bulk deletes: selected objects, whole folders and "empty bucket", through multi-object delete
// (POST /?delete, at most 1000 keys a request), in a dialog with progress, a Stop button and a
// summary of what could not be deleted.

import { DELETE_BATCH } from "./api.js";
import { h, button, dialog, toast, humanError, errorBlock } from "./ui.js";

const MAX_LISTED_FAILURES = 100;

/**
 * Delete `keys` and everything under each of `prefixes` (folders; "" = the whole bucket).
 * Resolves {deleted, failed: [{key, code, message}], stopped, batches: [n...]} once the user
 * closes the summary.
 */
export function runDelete(client, bucket, { keys = [], prefixes = [], allVersions = false, title = "Deleting objects", onFinished } = {}) {
  const state = { deleted: 0, failed: [], total: keys.length, listing: prefixes.length > 0, stopped: false, done: false, batches: [] };
  const bar = h("div.progress-bar");
  const progress = h("div.progress#bulk-progress", { role: "progressbar", "aria-label": title,
    "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" }, bar);
  const status = h("p.bulk-status#bulk-status", { "aria-live": "polite" }, "Starting…");
  const summary = h("div.bulk-summary#bulk-summary", { hidden: true });
  let stopBtn, closeBtn;
  const body = h("div.bulk-body#bulk-dialog", progress, status, summary);

  const update = () => {
    const total = Math.max(state.total, state.deleted + state.failed.length);
    const doneCount = state.deleted + state.failed.length;
    const pct = total ? Math.round((doneCount / total) * 100) : 0;
    bar.style.width = `${state.done ? 100 : pct}%`;
    progress.setAttribute("aria-valuenow", String(state.done ? 100 : pct));
    status.textContent = `Deleted ${state.deleted.toLocaleString()} of ${total.toLocaleString()}${state.listing ? "+" : ""}` +
      (state.failed.length ? ` · ${state.failed.length.toLocaleString()} failed` : "");
    body.dataset.deleted = String(state.deleted);
    body.dataset.failed = String(state.failed.length);
    body.dataset.batches = state.batches.join(",");
  };

  return new Promise((resolve) => {
    dialog({
      title, body, closable: () => state.done,
      onClose: () => resolve({ deleted: state.deleted, failed: state.failed, stopped: state.stopped, batches: state.batches }),
      actions: (close) => {
        stopBtn = button("Stop", { id: "bulk-stop", on: () => { state.stopped = true; stopBtn.disabled = true; status.textContent += " · stopping…"; } });
        closeBtn = button("Close", { kind: "primary", id: "bulk-close", on: () => close(true) });
        closeBtn.hidden = true;
        return [stopBtn, closeBtn];
      },
    });
    work().then(finish, (err) => { state.failed.push({ key: "", code: err.code || "Error", message: err.message || String(err), err }); finish(); });
  });

  async function work() {
    const batch = [];
    const flush = async (all) => {
      while (batch.length >= DELETE_BATCH || (all && batch.length)) {
        if (state.stopped) return;
        const chunk = batch.splice(0, DELETE_BATCH);
        state.batches.push(chunk.length);
        try {
          const r = await client.deleteMultiple(bucket, chunk);
          state.deleted += r.deleted.length;
          state.failed.push(...r.errors);
        } catch (err) {
          state.failed.push(...chunk.map((it) => ({ key: typeof it === "string" ? it : it.key,
            versionId: typeof it === "string" ? "" : it.versionId, code: err.code, message: err.message, err })));
        }
        update();
      }
    };
    batch.push(...keys);
    update();
    await flush(false);
    for (const prefix of prefixes) {
      if (state.stopped) break;
      try {
        const pages = allVersions ? client.forEachVersionPage.bind(client) : client.forEachKeyPage.bind(client);
        await pages(bucket, prefix, async (page) => {
          state.total += page.length;
          batch.push(...page);
          update();
          await flush(false);
          if (state.stopped) throw new StopError();
        });
      } catch (err) {
        if (err instanceof StopError) break;
        state.failed.push({ key: prefix || "(whole bucket)", code: err.code, message: `Could not list the objects: ${err.message}`, err });
      }
    }
    state.listing = false;
    await flush(true);
  }

  function finish() {
    state.done = true;
    state.listing = false;
    update();
    stopBtn.hidden = true;
    closeBtn.hidden = false;
    const noun = (n) => `${allVersions ? "object version" : "object"}${n === 1 ? "" : "s"}`;
    const parts = [h("p.bulk-result", state.stopped ? `Stopped. ${state.deleted.toLocaleString()} ${noun(state.deleted)} ${state.deleted === 1 ? "was" : "were"} deleted.`
      : `${state.deleted.toLocaleString()} ${noun(state.deleted)} deleted.`)];
    if (state.failed.length) {
      const groups = new Map();
      for (const f of state.failed) {
        const sentence = humanError(f.err || { code: f.code, message: f.message }, "delete");
        groups.set(sentence, (groups.get(sentence) || 0) + 1);
      }
      parts.push(h("div.form-error#bulk-failures",
        h("p", h("strong", `${state.failed.length.toLocaleString()} could not be deleted:`)),
        h("ul", [...groups].map(([sentence, n]) => h("li", `${n.toLocaleString()} × ${sentence}`))),
        h("details.error-details", h("summary", "Details"),
          h("pre", state.failed.slice(0, MAX_LISTED_FAILURES).map((f) =>
            `${f.key}${f.versionId ? ` (version ${f.versionId})` : ""}: ${f.code}${f.message ? " – " + f.message : ""}`).join("\n") +
            (state.failed.length > MAX_LISTED_FAILURES ? `\n… and ${state.failed.length - MAX_LISTED_FAILURES} more` : "")))));
    }
    summary.replaceChildren(...parts);
    summary.hidden = false;
    body.dataset.state = "done";
    closeBtn.focus();
    if (onFinished) onFinished(state);
  }
}

class StopError extends Error {}

/** Ask for the bucket's name, then delete every object in it (and the bucket, with thenDelete).
 *  In a bucket with versioning, every version and delete marker goes too (else it is not empty). */
export async function emptyBucket(client, bucket, { thenDelete = false } = {}) {
  let versioned = false;
  try {
    versioned = ["Enabled", "Suspended"].includes(await client.versioningStatus(bucket));
  } catch { /* cannot tell (no permission, or a server without versioning): current objects only */ }
  const also = versioned ? " Versioning is on: every old version and delete marker is deleted too." : "";
  const ok = await typedConfirm(thenDelete ? "Empty and delete bucket" : "Empty bucket", bucket,
    (thenDelete ? `The bucket “${bucket}” is not empty. Delete every object in it, and then the bucket?`
      : `Delete every object in “${bucket}”? The bucket itself stays.`) + also,
    thenDelete ? "Empty and delete" : "Empty bucket");
  if (!ok) return null;
  const report = await runDelete(client, bucket, { prefixes: [""], allVersions: versioned, title: `Emptying ${bucket}` });
  report.bucketDeleted = false;
  if (thenDelete && !report.failed.length && !report.stopped) {
    try {
      await client.deleteBucket(bucket);
      report.bucketDeleted = true;
      toast(`Bucket ${bucket} deleted`, "success");
    } catch (err) {
      toast(errorBlock(err, "delete the bucket"), "error", 8000);
    }
  }
  return report;
}

/** A destructive confirmation that needs the name typed in. */
export function typedConfirm(title, name, message, okLabel) {
  return new Promise((resolve) => {
    const input = h("input#confirm-name", { autocomplete: "off", spellcheck: "false", "aria-describedby": "confirm-name-hint" });
    let ok;
    dialog({
      title,
      body: h("form", { on: { submit: (e) => { e.preventDefault(); if (!ok.disabled) ok.click(); } } },
        h("p", message), h("p.danger-note", "This cannot be undone."),
        h("div.field", h("label", { for: "confirm-name" }, "Type the bucket name to confirm"), input),
        h("p.hint#confirm-name-hint", name)),
      onClose: (v) => resolve(Boolean(v)),
      actions: (close) => {
        ok = button(okLabel, { kind: "danger", id: "confirm-ok", disabled: true, on: () => close(true) });
        input.addEventListener("input", () => { ok.disabled = input.value.trim() !== name; });
        return [button("Cancel", { on: () => close(false), id: "confirm-cancel" }), ok];
      },
    });
  });
}
