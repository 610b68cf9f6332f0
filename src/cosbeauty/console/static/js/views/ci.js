// Cloud Infinite switches of a bucket (bound to CI / AI recognition enabled).
// Filled in once the server's CI management calls are known; until then the panel stays empty.

import { h, icon, button, toast, errorText } from "../ui.js";

export function ciPanel(ctx, bucket, host) {
  host.replaceChildren();
}

export function enableAiButton(client, bucket, onDone) {
  return null;
}
