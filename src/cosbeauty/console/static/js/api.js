// A small COS API client for the console: path-style URLs on this origin, every request signed
// in the browser with COS v5 (see sigv5.js). XHR is used so uploads can report progress.

import { cosEncode, presignQuery, signRequest } from "./sigv5.js";

export class CosError extends Error {
  constructor(status, code, message, requestId = "") {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || `HTTP${status}`;
    this.requestId = requestId;
  }
}

export class AbortError extends Error {
  constructor() { super("aborted"); this.name = "AbortError"; }
}

const XML_NS_FREE = (doc, tag) => Array.from(doc.getElementsByTagName(tag));
export const text = (el, tag, fallback = "") => {
  const node = el.getElementsByTagName(tag)[0];
  return node ? node.textContent : fallback;
};

export function parseXml(body) {
  const doc = new DOMParser().parseFromString(body, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) throw new Error("unreadable XML reply");
  return doc;
}

function encodeKeyPath(key) {
  return key.split("/").map(cosEncode).join("/");
}

function queryString(params) {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => (v === "" ? cosEncode(k) : `${cosEncode(k)}=${cosEncode(v)}`))
    .join("&");
}

export class CosClient {
  constructor({ secretId, secretKey, origin = location.origin, host = location.host }) {
    this.secretId = secretId;
    this.secretKey = secretKey;
    this.origin = origin;
    this.host = host;
    this.clockOffset = 0;     // server time - local time, seconds (learnt from the Date header)
    this.appid = "";
  }

  /** Decoded path the signature covers, and the encoded path for the URL. */
  paths(bucket, key) {
    if (!bucket) return { signed: "/", url: "/" };
    if (!key) return { signed: `/${bucket}/`, url: `/${bucket}/` };
    return { signed: `/${bucket}/${key}`, url: `/${bucket}/${encodeKeyPath(key)}` };
  }

  now() { return Date.now() / 1000 + this.clockOffset; }

  async sign(method, signedPath, params, headers, expires = 900) {
    return signRequest({ secretId: this.secretId, secretKey: this.secretKey, method, path: signedPath,
      params, headers, now: this.now(), expires });
  }

  /**
   * One signed request. opts: bucket, key, path (raw path instead of bucket/key), params, headers,
   * body, responseType ("text" | "blob" | "json"), onUploadProgress(loaded, total), signal.
   * Resolves {status, headers: Headers-like getter, body}; rejects CosError.
   */
  async request(method, opts = {}, retried = false) {
    const params = opts.params || {};
    const headers = opts.headers || {};
    const { signed, url } = opts.path ? { signed: opts.path, url: opts.path } : this.paths(opts.bucket, opts.key);
    const auth = await this.sign(method, signed, params, { ...headers, host: this.host });
    const qs = queryString(params);
    try {
      return await this._xhr(method, this.origin + url + (qs ? `?${qs}` : ""), headers, auth.authorization, opts);
    } catch (err) {
      if (!retried && err instanceof CosError && err.serverDate && this._skewed(err)) {
        this.clockOffset = err.serverDate - Date.now() / 1000;
        return this.request(method, opts, true);
      }
      throw err;
    }
  }

  _skewed(err) {
    const drift = Math.abs(err.serverDate - this.now());
    return (err.code === "RequestTimeTooSkewed" || /expired/i.test(err.message)) && drift > 30;
  }

  _xhr(method, url, headers, authorization, opts) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.responseType = opts.responseType === "blob" ? "blob" : "text";
      xhr.setRequestHeader("Authorization", authorization);
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      if (opts.onUploadProgress && xhr.upload) {
        xhr.upload.onprogress = (e) => opts.onUploadProgress(e.loaded, e.lengthComputable ? e.total : 0);
      }
      if (opts.signal) {
        if (opts.signal.aborted) { reject(new AbortError()); return; }
        opts.signal.addEventListener("abort", () => xhr.abort(), { once: true });
      }
      xhr.onabort = () => reject(new AbortError());
      xhr.onerror = () => reject(new CosError(0, "NetworkError", "The server could not be reached."));
      xhr.onload = async () => {
        const header = (name) => xhr.getResponseHeader(name);
        if (xhr.status >= 200 && xhr.status < 300) {
          let body = xhr.response;
          if (opts.responseType === "json") body = JSON.parse(body || "null");
          resolve({ status: xhr.status, header, body });
          return;
        }
        let raw = xhr.response;
        if (raw instanceof Blob) raw = await raw.text();
        let code = "", message = "", requestId = header("x-cos-request-id") || "";
        if (raw && raw.includes("<Error")) {
          try {
            const doc = parseXml(raw);
            code = text(doc, "Code");
            message = text(doc, "Message");
            requestId = text(doc, "RequestId", requestId);
          } catch { /* fall through */ }
        }
        const err = new CosError(xhr.status, code || statusCode(xhr.status), message || xhr.statusText, requestId);
        const date = header("date");
        if (date) err.serverDate = Date.parse(date) / 1000;
        reject(err);
      };
      xhr.send(opts.body === undefined ? null : opts.body);
    });
  }

  /** A pre-signed GET URL (for downloads and <a href>). */
  async presignedUrl(bucket, key, params = {}, expires = 3600) {
    const { signed, url } = this.paths(bucket, key);
    const auth = await this.sign("GET", signed, params, { host: this.host }, expires);
    const qs = queryString(params);
    return `${this.origin}${url}?${qs ? qs + "&" : ""}${presignQuery(auth.fields)}`;
  }

  // -- service / buckets -------------------------------------------------------------
  async listBuckets() {
    const r = await this.request("GET", {});
    const doc = parseXml(r.body);
    const owner = doc.getElementsByTagName("Owner")[0];
    this.appid = owner ? text(owner, "DisplayName") : this.appid;
    return XML_NS_FREE(doc, "Bucket").map((b) => ({
      name: text(b, "Name"), region: text(b, "Location"), created: text(b, "CreationDate"),
    }));
  }

  createBucket(bucket) { return this.request("PUT", { bucket }); }
  deleteBucket(bucket) { return this.request("DELETE", { bucket }); }

  async bucketAcl(bucket) {
    const r = await this.request("GET", { bucket, params: { acl: "" } });
    const doc = parseXml(r.body);
    return XML_NS_FREE(doc, "Grant").map((g) => ({ permission: text(g, "Permission"), grantee: text(g, "URI") || text(g, "ID") }));
  }

  async listObjects(bucket, { prefix = "", delimiter = "/", marker = "", maxKeys = 100 } = {}) {
    const params = { prefix, delimiter, marker, "max-keys": String(maxKeys) };
    const r = await this.request("GET", { bucket, params });
    const doc = parseXml(r.body);
    return {
      prefix,
      truncated: text(doc, "IsTruncated") === "true",
      nextMarker: text(doc, "NextMarker"),
      folders: XML_NS_FREE(doc, "CommonPrefixes").map((p) => text(p, "Prefix")),
      objects: XML_NS_FREE(doc, "Contents").map((c) => ({
        key: text(c, "Key"), size: Number(text(c, "Size", "0")), modified: text(c, "LastModified"),
        etag: text(c, "ETag").replaceAll('"', ""),
      })),
    };
  }

  // -- objects ----------------------------------------------------------------------------
  putObject(bucket, key, body, { contentType, onUploadProgress, signal } = {}) {
    const headers = contentType ? { "Content-Type": contentType } : {};
    return this.request("PUT", { bucket, key, body, headers, onUploadProgress, signal });
  }

  async getObjectBlob(bucket, key, params = {}, signal) {
    const r = await this.request("GET", { bucket, key, params, responseType: "blob", signal });
    return { blob: r.body, header: r.header };
  }

  headObject(bucket, key) { return this.request("HEAD", { bucket, key }); }
  deleteObject(bucket, key) { return this.request("DELETE", { bucket, key }); }

  /** true / false; throws on anything but 404 (e.g. AccessDenied: we cannot tell). */
  async objectExists(bucket, key) {
    try {
      await this.headObject(bucket, key);
      return true;
    } catch (err) {
      if (err instanceof CosError && err.status === 404) return false;
      throw err;
    }
  }

  /** Multi-object delete (POST /?delete), at most 1000 items (a key, or {key, versionId}):
   *  {deleted: [key], errors: [{key, versionId, code, message}]}. */
  async deleteMultiple(bucket, items) {
    if (!items.length || items.length > DELETE_BATCH) throw new Error(`delete 1..${DELETE_BATCH} keys per request`);
    const xml = "<Delete><Quiet>false</Quiet>" + items.map((it) => typeof it === "string"
      ? `<Object><Key>${xmlEscape(it)}</Key></Object>`
      : `<Object><Key>${xmlEscape(it.key)}</Key><VersionId>${xmlEscape(it.versionId)}</VersionId></Object>`).join("") + "</Delete>";
    const r = await this.request("POST", { bucket, params: { delete: "" }, body: xml,
      headers: { "Content-Type": "application/xml" } });
    const doc = parseXml(r.body);
    return {
      deleted: XML_NS_FREE(doc, "Deleted").map((d) => text(d, "Key")),
      errors: XML_NS_FREE(doc, "Error").map((e) => ({ key: text(e, "Key"), versionId: text(e, "VersionId"),
        code: text(e, "Code"), message: text(e, "Message") })),
    };
  }

  /** "Enabled", "Suspended" or "" (never enabled). */
  async versioningStatus(bucket) {
    const r = await this.request("GET", { bucket, params: { versioning: "" } });
    return text(parseXml(r.body), "Status");
  }

  /** Every version and delete marker under a prefix (GET /?versions), page by page: onPage([{key, versionId}]). */
  async forEachVersionPage(bucket, prefix, onPage, signal) {
    let keyMarker = "", versionMarker = "";
    for (;;) {
      if (signal && signal.aborted) throw new AbortError();
      const params = { versions: "", prefix, "max-keys": String(DELETE_BATCH) };
      if (keyMarker) { params["key-marker"] = keyMarker; params["version-id-marker"] = versionMarker; }
      const r = await this.request("GET", { bucket, params });
      const doc = parseXml(r.body);
      const items = [...XML_NS_FREE(doc, "Version"), ...XML_NS_FREE(doc, "DeleteMarker")]
        .map((v) => ({ key: text(v, "Key"), versionId: text(v, "VersionId") }));
      if (items.length) await onPage(items);
      if (text(doc, "IsTruncated") !== "true" || !items.length) return;
      keyMarker = text(doc, "NextKeyMarker");
      versionMarker = text(doc, "NextVersionIdMarker");
    }
  }

  /** Every key under a prefix (no delimiter), page by page: calls onPage(keys) per 1000. */
  async forEachKeyPage(bucket, prefix, onPage, signal) {
    let marker = "";
    for (;;) {
      if (signal && signal.aborted) throw new AbortError();
      const res = await this.listObjects(bucket, { prefix, delimiter: "", marker, maxKeys: DELETE_BATCH });
      const keys = res.objects.map((o) => o.key);
      if (keys.length) await onPage(keys);
      if (!res.truncated || !keys.length) return;
      marker = res.nextMarker || keys[keys.length - 1];
    }
  }

  /** Dry-run permission checks: [{action, bucket?, key?}] -> {principal, appid, region, results: [{..., allowed}]}. */
  async permissions(checks) {
    const r = await this.request("GET", { path: "/console/api/permissions", params: { checks: JSON.stringify(checks) } });
    return JSON.parse(r.body);
  }

  async initMultipart(bucket, key, contentType) {
    const headers = contentType ? { "Content-Type": contentType } : {};
    const r = await this.request("POST", { bucket, key, params: { uploads: "" }, headers });
    return text(parseXml(r.body), "UploadId");
  }

  async uploadPart(bucket, key, uploadId, partNumber, blob, onUploadProgress, signal) {
    const r = await this.request("PUT", { bucket, key, params: { partNumber: String(partNumber), uploadId },
      body: blob, onUploadProgress, signal });
    return r.header("ETag");
  }

  completeMultipart(bucket, key, uploadId, parts) {
    const xml = "<CompleteMultipartUpload>" + parts.map((p) =>
      `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${p.etag}</ETag></Part>`).join("") +
      "</CompleteMultipartUpload>";
    return this.request("POST", { bucket, key, params: { uploadId }, body: xml,
      headers: { "Content-Type": "application/xml" } });
  }

  abortMultipart(bucket, key, uploadId) {
    return this.request("DELETE", { bucket, key, params: { uploadId } });
  }

  // -- Cloud Infinite ----------------------------------------------------------------------
  beautyParams(strength) {
    return { "ci-process": "AIFaceBeauty", strength: String(strength) };
  }

  processed(bucket, key, strength, signal) {
    return this.getObjectBlob(bucket, key, this.beautyParams(strength), signal);
  }

  /** ci-process=face-effect parameters: type, and the four levels with type=face-beautify. */
  faceEffectParams(type, levels = {}) {
    const params = { "ci-process": "face-effect", type };
    if (type === "face-beautify") {
      for (const name of FACE_EFFECT_LEVELS) if (levels[name] !== undefined) params[name] = String(levels[name]);
    }
    return params;
  }

  /** GET ?ci-process=face-effect (every parameter signed): the reply is XML
   *  <Response><ResultImage>base64</ResultImage>[<ResultMask>base64</ResultMask>]</Response>,
   *  decoded here to {image: Blob, mask: Blob | null}. */
  async faceEffect(bucket, key, type, levels, signal) {
    const r = await this.request("GET", { bucket, key, params: this.faceEffectParams(type, levels), signal });
    const doc = parseXml(r.body);
    const image = text(doc, "ResultImage");
    if (!image) throw new CosError(r.status, "InvalidResponse", "The face-effect reply has no ResultImage.");
    const mask = text(doc, "ResultMask");
    return { image: base64Blob(image), mask: mask ? base64Blob(mask) : null };
  }

  /** Method 3: process a stored object with `rule` (e.g. "ci-process=AIFaceBeauty&strength=0.50" or
   *  "ci-process=face-effect&type=face-beautify&whitening=30&...") and save the result as `target`
   *  (a full key in the same bucket). A bare number is an AIFaceBeauty strength. */
  async saveProcessed(bucket, key, target, rule) {
    if (!String(rule).startsWith("ci-process=")) rule = `ci-process=AIFaceBeauty&strength=${rule}`;
    const fileid = "/" + target.replace(/^\/+/, "");     // absolute: not relative to the source's folder
    const ops = JSON.stringify({ is_pic_info: 1, rules: [{ fileid, rule }] })
      .replace(/[\u007f-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));   // header values are bytes
    const r = await this.request("POST", { bucket, key, params: { image_process: "" },
      headers: { "Pic-Operations": ops } });
    const doc = parseXml(r.body);
    const obj = doc.getElementsByTagName("ProcessResults")[0] || doc;
    return { key: text(obj, "Key", target), size: Number(text(obj, "Size", "0")), width: Number(text(obj, "Width", "0")),
      height: Number(text(obj, "Height", "0")), etag: text(obj, "ETag").replaceAll('"', "") };
  }

  async faces(bucket, key) {
    const path = `/console/api/faces/${bucket}/${key}`;
    const url = `/console/api/faces/${bucket}/${encodeKeyPath(key)}`;
    const auth = await this.sign("GET", path, {}, { host: this.host });
    const r = await this._xhr("GET", this.origin + url, {}, auth.authorization, { responseType: "json" });
    return r.body;
  }

  /** Cloud Infinite activation of a bucket: {bound, ai} (console API; changing it needs root). */
  ciState(bucket) { return this.adminJson("GET", `/console/api/ci/${bucket}`); }
  setCi(bucket, flags) { return this.adminJson("PUT", `/console/api/ci/${bucket}`, {}, flags); }

  /** A signed JSON call to an admin endpoint (signed path = request path). */
  async adminJson(method, path, params = {}, body) {
    const headers = body === undefined ? {} : { "Content-Type": "application/json" };
    const r = await this.request(method, { path, params, headers,
      body: body === undefined ? undefined : JSON.stringify(body) });
    return r.body ? JSON.parse(r.body) : null;
  }
}

export const DELETE_BATCH = 1000;
/** face-effect's levels (type=face-beautify), in Tencent's spelling. */
export const FACE_EFFECT_LEVELS = ["whitening", "smoothing", "faceLifting", "eyeEnlarging"];

/** Image type from the first bytes (the face-effect reply carries no Content-Type of its own). */
export function sniffImageType(bytes) {
  const b = bytes;
  if (b[0] === 0xff && b[1] === 0xd8) return "image/jpeg";
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "image/png";
  if (b[0] === 0x42 && b[1] === 0x4d) return "image/bmp";
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45) return "image/webp";
  if ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a) || (b[0] === 0x4d && b[1] === 0x4d && b[3] === 0x2a)) return "image/tiff";
  return "";
}

/** A Blob from base64 text, typed by its magic bytes. */
export function base64Blob(b64) {
  const bin = atob(b64.replace(/\s+/g, ""));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Blob([bytes], { type: sniffImageType(bytes) || "application/octet-stream" });
}

function xmlEscape(s) {
  return s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" }[c]));
}

function statusCode(status) {
  return { 400: "BadRequest", 403: "AccessDenied", 404: "NotFound", 405: "MethodNotAllowed", 409: "Conflict",
    413: "EntityTooLarge", 500: "InternalError", 503: "SlowDown" }[status] || `HTTP${status}`;
}
