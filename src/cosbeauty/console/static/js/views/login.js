// Sign-in page: SecretId / SecretKey, checked with a signed GET Service; kept in sessionStorage only.

import { h, icon, humanError, errorDetails } from "../ui.js";

export function renderLogin(root, { signIn, next, navigate }) {
  const idInput = h("input#secret-id", { name: "secretId", autocomplete: "username", spellcheck: "false",
    placeholder: "AKID…", required: true });
  const keyInput = h("input#secret-key", { name: "secretKey", type: "password", autocomplete: "current-password",
    placeholder: "••••••••••••", required: true });
  const error = h("div.form-error#login-error", { role: "alert", hidden: true });
  const submit = h("button.btn.primary.block#login-submit", { type: "submit" }, h("span", "Sign in"));
  const serverInfo = h("div.login-server");

  const form = h("form.login-card", { on: { submit: onSubmit } },
    h("div.login-brand", h("span.brand-mark.large", icon("sparkles")), h("div",
      h("h1", "cosbeauty"), h("p.muted", "Object storage with AI face beauty"))),
    h("label.field", h("span", "SecretId"), idInput),
    h("label.field", h("span", "SecretKey"), keyInput),
    error,
    submit,
    h("p.login-note", icon("key"),
      h("span", "Keys stay in this browser tab (sessionStorage). Every request is signed locally with COS v5; the secret key is never sent.")),
    serverInfo);

  root.replaceChildren(h("main.login-page", form));
  document.title = "Sign in · cosbeauty console";
  idInput.focus();

  fetch("/console/api/info").then((r) => (r.ok ? r.json() : null)).then((info) => {
    if (info) serverInfo.replaceChildren(h("span.pill", `APPID ${info.appid}`), h("span.pill", info.region));
  }).catch(() => {});

  async function onSubmit(e) {
    e.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    submit.classList.add("busy");
    try {
      await signIn(idInput.value.trim(), keyInput.value.trim());
      navigate(next && !next.startsWith("#/login") ? next : "#/buckets");
    } catch (err) {
      const sentence = err.code === "InvalidAccessKeyId" ? "Unknown SecretId."
        : err.code === "SignatureDoesNotMatch" ? "Wrong SecretKey for this SecretId." : humanError(err, "sign in");
      error.replaceChildren(h("p.error-sentence", sentence),
        h("details.error-details", h("summary", "Details"), h("pre", errorDetails(err))));
      error.hidden = false;
    } finally {
      submit.disabled = false;
      submit.classList.remove("busy");
    }
  }
  return null;
}
