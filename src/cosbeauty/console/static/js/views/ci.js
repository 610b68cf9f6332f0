// Cloud Infinite switches of a bucket: bound to CI, and AI recognition (needed by AIFaceBeauty).

import { h, icon, button, toast, errorToast } from "../ui.js";

export function ciPanel(ctx, bucket, host) {
  const { client } = ctx;
  const root = Boolean((ctx.creds || {}).root);
  const why = "Only the root account can switch Cloud Infinite on or off.";
  const bound = h("input#ci-bound", { type: "checkbox", disabled: true });
  const ai = h("input#ci-ai", { type: "checkbox", disabled: true });
  const card = h("div.ci-card#ci-card", { title: "Cloud Infinite activation for this bucket" },
    h("span.ci-title", icon("sparkles"), "Cloud Infinite"),
    h("label.switch", bound, h("span.switch-track"), h("span", "Bound")),
    h("label.switch", ai, h("span.switch-track"), h("span", "AI face beauty")),
    root ? null : h("span.visually-hidden", why));
  host.replaceChildren(card);
  if (!root) { card.title = why; card.dataset.denied = why; }

  const show = (state) => {
    bound.checked = state.bound;
    ai.checked = state.ai;
    bound.disabled = !root;
    ai.disabled = !root;
    if (!root) { card.title = why; card.dataset.denied = why; }
    card.dataset.bound = String(state.bound);
    card.dataset.ai = String(state.ai);
  };
  const change = async (flags, undo) => {
    bound.disabled = ai.disabled = true;
    try {
      const state = await client.setCi(bucket, flags);
      show(state);
      toast(state.ai ? "AI face beauty is on for this bucket" : state.bound ? "Bucket bound to Cloud Infinite"
        : "Cloud Infinite is off for this bucket", "success");
    } catch (err) {
      undo();
      bound.disabled = ai.disabled = false;
      errorToast(err, "change Cloud Infinite");
    }
  };
  bound.addEventListener("change", () => change({ bound: bound.checked }, () => { bound.checked = !bound.checked; }));
  ai.addEventListener("change", () => {
    // AI recognition needs the binding: switching it on binds too.
    change(ai.checked ? { bound: true, ai: true } : { ai: false }, () => { ai.checked = !ai.checked; });
  });
  // a sub-account that may not even read the state still sees why it cannot switch it
  client.ciState(bucket).then(show).catch(() => { if (root) card.hidden = true; else {
    card.dataset.state = "unknown";
    card.replaceChildren(card.firstChild, h("span.ci-unknown", "Managed by the account owner"), h("span.visually-hidden", why));
    card.append(bound, ai);
    bound.hidden = ai.hidden = true;
  } });
}

/** "Enable AI face beauty" for the notice shown when processing is refused. */
export function enableAiButton(client, bucket, onDone, root = true) {
  if (!root) return h("p.muted#enable-ai-denied", "Ask the account owner (root) to switch AI face beauty on for this bucket.");
  return button("Enable AI face beauty for this bucket", { kind: "primary", iconName: "sparkles", id: "enable-ai",
    on: async (e) => {
      const btn = e.currentTarget;
      btn.disabled = true;
      btn.classList.add("busy");
      try {
        await client.setCi(bucket, { bound: true, ai: true });
        toast("AI face beauty is on for this bucket", "success");
        onDone();
      } catch (err) {
        errorToast(err, "switch AI face beauty on");
        btn.disabled = false;
        btn.classList.remove("busy");
      }
    } });
}
