// Usage: the CI metering records (GET /-/usage, root-signed) as summary cards, a per-day chart
// (plain SVG) and tables. Every call shows its process (AIFaceBeauty, face-effect/face-beautify,
// face-effect/face-segmentation); a face-changing call that succeeded with 0 faces (as metering
// records it) is marked "no face" and counted.

import { h, icon, button, clear, formatBytes, formatDate, errorBlock } from "../ui.js";

/** A call that changes faces, succeeded, and found none (a cut-out does not count faces). */
export const noFaceCall = (r) => String(r.outcome).startsWith("ok") && Number(r.faces) === 0
  && !String(r.process || "").endsWith("face-segmentation");
const noFaceTag = () => h("span.tag.no-face", { title: "No face was found: the result equals the original" }, "no face");

const PERIODS = [["7d", "Last 7 days", 7], ["30d", "Last 30 days", 30], ["90d", "Last 90 days", 90]];

export async function renderUsage(ctx) {
  const { client, content, setHeader, ui, session } = ctx;      // ui: per-session state (reset on sign-in/out)
  let period = ui.usagePeriod;
  let bucketFilter = ui.usageBucket;
  setHeader([{ label: "Usage" }], [
    button("Refresh", { kind: "ghost", iconName: "refresh", on: () => load() }),
  ]);
  const periodSelect = h("select#usage-period", { on: { change: () => { period = ui.usagePeriod = periodSelect.value; load(); } } },
    PERIODS.map(([v, label]) => h("option", { value: v, selected: v === period }, label)));
  const bucketSelect = h("select#usage-bucket", { on: { change: () => { bucketFilter = ui.usageBucket = bucketSelect.value; load(); } } },
    h("option", { value: "" }, "All buckets"),
    bucketFilter ? h("option", { value: bucketFilter, selected: true }, bucketFilter) : null);
  const body = h("div.usage-body");
  clear(content,
    h("div.page-head", h("div", h("h1", "Usage"), h("p.muted", "Cloud Infinite calls (AIFaceBeauty and face-effect), metered per request.")),
      h("div.filters", { role: "group", "aria-label": "Filters" },
        h("div.filter", h("label", { for: "usage-bucket" }, "Bucket"), bucketSelect),
        h("div.filter", h("label", { for: "usage-period" }, "Period"), periodSelect))),
    body);

  const addBuckets = (names) => {
    const have = new Set([...bucketSelect.options].map((o) => o.value));
    for (const n of names) if (!have.has(n)) bucketSelect.append(h("option", { value: n, selected: n === bucketFilter }, n));
  };
  const creds = session.load() || {};
  if (creds.canList === false) addBuckets(creds.buckets || []);
  else client.listBuckets().then((buckets) => addBuckets(buckets.map((b) => b.name))).catch(() => addBuckets(creds.buckets || []));

  async function load() {
    body.classList.add("is-loading");
    if (!body.firstChild) body.append(h("div.loading", h("span.spinner"), "Loading usage…"));
    let data;
    try {
      const params = { since: period };
      if (bucketFilter) params.bucket = bucketFilter;
      data = await client.adminJson("GET", "/-/usage", params);
    } catch (err) {
      body.classList.remove("is-loading");
      const denied = err.code === "AccessDenied";
      clear(body, h("div.card#usage-error", h("div.empty.error-state", icon("alert"), h("h2", "Usage is unavailable"),
        denied ? h("p", "The usage report is only available to the root account. Sign in with the root keys to see it.") : null,
        denied ? h("details.error-details", h("summary", "Details"), h("pre", `${err.code}: ${err.message}`)) : errorBlock(err, "load usage"))));
      return;
    }
    body.classList.remove("is-loading");
    render(data);
  }

  function render(data) {
    const records = (data && data.records) || [];
    const days = PERIODS.find(([v]) => v === period)[2];
    const ok = records.filter((r) => String(r.outcome).startsWith("ok")).length;
    const sum = (k) => records.reduce((a, r) => a + (Number(r[k]) || 0), 0);
    const avgMs = records.length ? sum("ms") / records.length : 0;
    const noFace = records.filter(noFaceCall).length;
    const noFaceBy = new Map();
    for (const r of records) if (noFaceCall(r)) {
      const k = `${r.bucket}\n${r.method}\n${r.process}`;
      noFaceBy.set(k, (noFaceBy.get(k) || 0) + 1);
    }
    const cards = h("div.kpis",
      kpi("Calls", String(records.length), `${ok} succeeded`, "kpi-calls"),
      kpi("Success rate", records.length ? `${Math.round((ok / records.length) * 100)}%` : "–", `${records.length - ok} failed`, "kpi-rate"),
      kpi("Faces processed", String(sum("faces")), noFace ? `${noFace} ${noFace === 1 ? "call" : "calls"} found no face` : "across all calls", "kpi-faces"),
      kpi("Data", formatBytes(sum("input_bytes")), `in · ${formatBytes(sum("output_bytes"))} out`, "kpi-bytes"),
      kpi("Avg. time", records.length ? `${Math.round(avgMs)} ms` : "–", "per call", "kpi-ms"));

    const chart = h("div.card.chart-card", h("div.card-head", h("h2", "Calls per day"),
      h("div.legend", h("span.legend-item.ok", "Succeeded"), h("span.legend-item.fail", "Failed"))),
    dailyChart(records, days));

    const totals = (data && data.totals) || [];
    const totalsTable = h("div.card.table-card", h("div.card-head", h("h2", "By bucket, method and process")),
      totals.length ? h("table.table#usage-totals",
        h("thead", h("tr", ["Bucket", "Method", "Calls", "OK", "Faces", "No face", "Input", "Output"].map((t, i) => h(i > 1 ? "th.num" : "th", t)))),
        h("tbody", totals.map((t) => {
          const none = noFaceBy.get(`${t.bucket}\n${t.method}\n${t.process}`) || 0;
          return h("tr", { dataset: { process: t.process || "", noFace: String(none) } },
            h("td", t.bucket), h("td", h("span.badge", t.method), t.process ? h("span.muted", ` ${t.process}`) : ""),
            h("td.num", String(t.calls)), h("td.num", String(t.ok)),
            h("td.num", String(t.faces)), h("td.num", String(none)),
            h("td.num", formatBytes(t.input_bytes)), h("td.num", formatBytes(t.output_bytes)));
        })))
        : h("div.empty.small", h("p.muted", "No calls in this period.")));

    const recent = records.slice().sort((a, b) => b.ts - a.ts).slice(0, 50);
    const recordsTable = h("div.card.table-card", h("div.card-head", h("h2", "Recent calls"), h("span.muted", `${records.length} in period`)),
      recent.length ? h("table.table.compact#usage-records",
        h("thead", h("tr", ["Time", "Bucket", "Method", "Process", "Outcome", "Faces", "Input", "Output", "Time (ms)"].map((t, i) => h(i > 4 ? "th.num" : "th", t)))),
        h("tbody", recent.map((r) => h("tr", { dataset: { process: r.process || "", faces: String(r.faces), noFace: String(noFaceCall(r)) } },
          h("td.muted", formatDate(new Date(r.ts * 1000).toISOString())), h("td", r.bucket), h("td", h("span.badge", r.method)),
          h("td.process", r.process || ""),
          h("td", h(`span.status.${String(r.outcome).startsWith("ok") ? "ok" : "fail"}`, r.outcome)),
          h("td.num", String(r.faces), noFaceCall(r) ? [" ", noFaceTag()] : null),
          h("td.num", formatBytes(r.input_bytes)), h("td.num", formatBytes(r.output_bytes)),
          h("td.num", String(Math.round(r.ms))))))) : h("div.empty.small", h("p.muted", "No calls yet. Open an image and move a slider in the studio.")));
    clear(body, cards, chart, h("div.stack", totalsTable, recordsTable));
  }

  await load();
  return null;
}

function kpi(label, value, sub, id) {
  return h(`div.kpi#${id}`, h("span.kpi-label", label), h("span.kpi-value", value), h("span.kpi-sub", sub));
}

/** Stacked bars (succeeded / failed) per local day, plain SVG. */
export function dailyChart(records, days) {
  const dayKey = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  const buckets = [];
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(today);
    d.setDate(d.getDate() - i);
    buckets.push({ key: dayKey(d), date: d, ok: 0, fail: 0 });
  }
  const index = new Map(buckets.map((b) => [b.key, b]));
  for (const r of records) {
    const b = index.get(dayKey(new Date(r.ts * 1000)));
    if (!b) continue;
    if (String(r.outcome).startsWith("ok")) b.ok++; else b.fail++;
  }
  const W = 1100, H = 220, padL = 40, padR = 12, padT = 12, padB = 28;
  const max = Math.max(1, ...buckets.map((b) => b.ok + b.fail));
  const niceMax = niceCeil(max);
  const plotW = W - padL - padR, plotH = H - padT - padB;
  const slot = plotW / buckets.length;
  const barW = Math.max(2, Math.min(28, slot * 0.62));
  const y = (v) => padT + plotH - (v / niceMax) * plotH;
  const ns = "http://www.w3.org/2000/svg";
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", id: "usage-chart", role: "img",
    "aria-label": "Calls per day" });
  for (let i = 0; i <= 4; i++) {
    const v = (niceMax / 4) * i;
    svg.append(el("line", { x1: padL, x2: W - padR, y1: y(v), y2: y(v), class: "grid" }));
    svg.append(el("text", { x: padL - 8, y: y(v) + 4, class: "axis", "text-anchor": "end" }, Number.isInteger(v) ? v : v.toFixed(1)));
  }
  const labelEvery = Math.ceil(buckets.length / 10);
  buckets.forEach((b, i) => {
    const x = padL + slot * i + (slot - barW) / 2;
    const g = el("g", { class: "bar", "data-day": b.key, "data-ok": b.ok, "data-fail": b.fail });
    g.append(el("title", {}, `${b.key}: ${b.ok} succeeded, ${b.fail} failed`));
    if (b.ok) g.append(el("rect", { x, y: y(b.ok), width: barW, height: y(0) - y(b.ok), rx: 3, class: "ok" }));
    if (b.fail) g.append(el("rect", { x, y: y(b.ok + b.fail), width: barW, height: y(b.ok) - y(b.ok + b.fail), rx: 3, class: "fail" }));
    if (!b.ok && !b.fail) g.append(el("rect", { x, y: y(0) - 2, width: barW, height: 2, rx: 1, class: "zero" }));
    svg.append(g);
    if (i % labelEvery === 0 || i === buckets.length - 1) {
      svg.append(el("text", { x: x + barW / 2, y: H - 8, class: "axis", "text-anchor": "middle" },
        b.date.toLocaleDateString(undefined, { month: "short", day: "numeric" })));
    }
  });
  return svg;
}

function niceCeil(v) {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 4, 5, 10]) if (m * p >= v) return Math.max(4, m * p);
  return v;
}
