// Tencent COS request signature v5, computed with WebCrypto (HMAC-SHA1 / SHA-1).
//
//   HttpString   = `${method}\n${path}\n${params}\n${headers}\n`   (method lower-case, path decoded)
//   StringToSign = `sha1\n${q-sign-time}\n${sha1hex(HttpString)}\n`
//   SignKey      = hmac_sha1_hex(SecretKey, q-key-time)
//   Signature    = hmac_sha1_hex(SignKey, StringToSign)
//
// params / headers: names lower-cased, names and values percent-encoded like Python's
// quote(s, safe='-_.~'), sorted, `k=v` joined by `&`; their names (`;`-joined) go into
// q-url-param-list / q-header-list. Mirrors qcloud_cos.cos_auth.CosS3Auth.
// Works in browsers (secure contexts: https, 127.0.0.1, localhost) and in node >= 20.

const utf8 = new TextEncoder();

function subtle() {
  const c = globalThis.crypto;
  if (!c || !c.subtle) {
    throw new Error("WebCrypto is unavailable: open the console over https, 127.0.0.1 or localhost.");
  }
  return c.subtle;
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Percent-encode like Python's urllib.parse.quote(s, safe="-_.~") on the UTF-8 bytes. */
export function cosEncode(text) {
  return encodeURIComponent(String(text)).replace(
    /[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

export async function sha1Hex(message) {
  return hex(await subtle().digest("SHA-1", utf8.encode(message)));
}

export async function hmacSha1Hex(key, message) {
  const k = await subtle().importKey("raw", utf8.encode(key), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  return hex(await subtle().sign("HMAC", k, utf8.encode(message)));
}

/** {list, string} for a set of name/value pairs (object, Map or array of pairs). */
export function canonicalPairs(pairs) {
  const entries = pairs instanceof Map ? [...pairs] : Array.isArray(pairs) ? pairs : Object.entries(pairs || {});
  const map = new Map();
  for (const [name, value] of entries) {
    if (value === undefined || value === null) continue;
    map.set(cosEncode(name).toLowerCase(), cosEncode(value));
  }
  const names = [...map.keys()].sort();
  return { list: names.join(";"), string: names.map((n) => `${n}=${map.get(n)}`).join("&") };
}

/**
 * Sign one request. `path` is the decoded path the server checks (`/<bucket>/<key>` path-style).
 * `now` is epoch seconds (defaults to the clock); the signature is valid from now-60 s to now+expires.
 * Returns {authorization, fields, httpString, stringToSign, signKey}.
 */
export async function signRequest({ secretId, secretKey, method, path, params = {}, headers = {},
  now = Date.now() / 1000, expires = 3600 }) {
  const start = Math.floor(now);
  const keyTime = `${start - 60};${start + expires}`;
  const p = canonicalPairs(params);
  const h = canonicalPairs(headers);
  const httpString = `${method.toLowerCase()}\n${path}\n${p.string}\n${h.string}\n`;
  const stringToSign = `sha1\n${keyTime}\n${await sha1Hex(httpString)}\n`;
  const signKey = await hmacSha1Hex(secretKey, keyTime);
  const signature = await hmacSha1Hex(signKey, stringToSign);
  const fields = {
    "q-sign-algorithm": "sha1",
    "q-ak": secretId,
    "q-sign-time": keyTime,
    "q-key-time": keyTime,
    "q-header-list": h.list,
    "q-url-param-list": p.list,
    "q-signature": signature,
  };
  const authorization = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join("&");
  return { authorization, fields, httpString, stringToSign, signKey };
}

/** Query-string form of the signature fields (for pre-signed URLs). */
export function presignQuery(fields) {
  return Object.entries(fields).map(([k, v]) => `${k}=${cosEncode(v)}`).join("&");
}
