// The live page: no libraries, no network beyond this server. Data from the JSON API, updates over SSE.
"use strict";
const COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"];
const state = { runs: {}, ended: {}, run: null, layer: null, history: {}, snapshots: {}, alerts: [] };

async function getJson(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c]));
}

// A small SVG chart: series of {x, y} points, lines or dots, linear or log10 axes.
function chart(series, opts) {
  const w = opts.width || 520, h = opts.height || 300, l = 56, r = 12, t = 10, b = 36;
  const tx = v => opts.logx ? Math.log10(v) : v, ty = v => opts.logy ? Math.log10(v) : v;
  const ok = p => isFinite(p.x) && isFinite(p.y) && (!opts.logx || p.x > 0) && (!opts.logy || p.y > 0);
  let xs = [], ys = [];
  series.forEach(s => s.points.filter(ok).forEach(p => { xs.push(tx(p.x)); ys.push(ty(p.y)); }));
  if (!xs.length) return { svg: "<svg width='" + w + "' height='60'><text x='10' y='30'>no data yet</text></svg>", points: 0 };
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (x1 - x0 < 1e-12) { x0 -= 0.5; x1 += 0.5; }
  if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
  const px = v => l + (tx(v) - x0) / (x1 - x0) * (w - l - r), py = v => t + (h - t - b) - (ty(v) - y0) / (y1 - y0) * (h - t - b);
  let out = "<svg xmlns='http://www.w3.org/2000/svg' width='" + w + "' height='" + h + "'>";
  if (opts.shade) {
    const a = Math.max(l, px(opts.shade[0])), c = Math.min(w - r, px(opts.shade[1]));
    out += "<rect x='" + a + "' y='" + t + "' width='" + Math.max(0, c - a) + "' height='" + (h - t - b) + "' fill='#eee'/>";
  }
  out += "<rect x='" + l + "' y='" + t + "' width='" + (w - l - r) + "' height='" + (h - t - b) + "' fill='none' stroke='#333'/>";
  const ticks = (lo, hi, log) => {
    const res = [];
    if (log) { for (let d = Math.ceil(lo); d <= hi + 1e-9; d++) res.push(d); return res; }
    const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / 5 || 1)));
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) res.push(v);
    return res.length > 8 ? res.filter((_, i) => i % Math.ceil(res.length / 8) === 0) : res;
  };
  const label = (v, log) => log ? "1e" + v : (Math.abs(v) >= 1e4 ? v.toExponential(1) : +v.toFixed(3));
  ticks(x0, x1, opts.logx).forEach(v => {
    const X = l + (v - x0) / (x1 - x0) * (w - l - r);
    out += "<text x='" + X + "' y='" + (h - b + 14) + "' text-anchor='middle'>" + label(v, opts.logx) + "</text>";
  });
  ticks(y0, y1, opts.logy).forEach(v => {
    const Y = t + (h - t - b) - (v - y0) / (y1 - y0) * (h - t - b);
    out += "<line x1='" + l + "' x2='" + (w - r) + "' y1='" + Y + "' y2='" + Y + "' stroke='#eee'/>";
    out += "<text x='" + (l - 4) + "' y='" + (Y + 4) + "' text-anchor='end'>" + label(v, opts.logy) + "</text>";
  });
  out += "<text x='" + (l + (w - l - r) / 2) + "' y='" + (h - 4) + "' text-anchor='middle'>" + esc(opts.xlabel || "") + "</text>";
  let drawn = 0, legendY = t + 14;
  series.forEach((s, i) => {
    const pts = s.points.filter(ok), color = s.color || COLORS[i % COLORS.length];
    drawn += pts.length;
    if (s.dots) pts.forEach(p => { out += "<circle cx='" + px(p.x) + "' cy='" + py(p.y) + "' r='2' fill='" + color + "'/>"; });
    else out += "<polyline fill='none' stroke='" + color + "' stroke-width='" + (s.width || 1.6) + "'" +
      (s.dashed ? " stroke-dasharray='5,4'" : "") + " points='" + pts.map(p => px(p.x) + "," + py(p.y)).join(" ") + "'/>";
    if (s.name) { out += "<text x='" + (w - r - 6) + "' y='" + legendY + "' text-anchor='end' fill='" + color + "'>" + esc(s.name) + "</text>"; legendY += 14; }
  });
  return { svg: out + "</svg>", points: drawn };
}

function put(id, c) {
  const el = document.getElementById(id);
  el.innerHTML = c.svg;
  el.dataset.points = c.points;
}

function renderNav() {
  const nav = document.getElementById("runs");
  const runs = Object.keys(state.runs).sort();
  if (!runs.length) return;
  nav.innerHTML = runs.map(run => "<div class='run'>" + esc(run) + (state.ended[run] ? " <span class='ended'>(ended)</span>" : "") + "</div>" + state.runs[run].map(l =>
    "<div class='layer" + (run === state.run && l === state.layer ? " selected" : "") + "' data-run='" + esc(run) +
    "' data-layer='" + esc(l) + "'>" + esc(l) + "</div>").join("")).join("");
  nav.querySelectorAll(".layer").forEach(el => el.onclick = () => select(el.dataset.run, el.dataset.layer));
}

function renderHistory() {
  if (!state.run) return;
  const series = (state.runs[state.run] || []).map(l => ({
    name: l, points: (state.history[state.run + "/" + l] || []).map(h => ({ x: h.step, y: h.alpha }))
  }));
  put("history", chart(series, { xlabel: "training step" }));
}

function renderSnapshot() {
  const s = state.snapshots[state.run + "/" + state.layer];
  if (!s) return;
  const ev = s.eigenvalues.map((v, i) => ({ x: i + 1, y: v }));
  const series = [{ name: "eigenvalues (normalized)", dots: true, points: ev }];
  let shade = null;
  if (s.fit_line) {
    const trace = s.trace || 1, f = s.fit_line;
    series.push({ name: "fit alpha = " + f.alpha.toFixed(3), width: 2.2, points: f.ranks.map((r, i) => ({ x: r, y: f.values[i] / trace })) });
    shade = f.ranks;
  }
  put("spectrum", chart(series, { logx: true, logy: true, xlabel: "rank", shade: shade }));
  const ci = s.alpha_ci ? " [" + s.alpha_ci[0].toFixed(3) + ", " + s.alpha_ci[1].toFixed(3) + "]" : "";
  document.getElementById("spectrum-facts").textContent = s.run + "/" + s.layer + " step " + s.step + ": alpha " +
    (s.alpha === null ? "n/a" : s.alpha.toFixed(3)) + ci + ", r2 " + (s.alpha_r2 === null ? "n/a" : s.alpha_r2.toFixed(3)) +
    ", window " + s.fit_range.join("-") + ", " + s.window.samples + " samples (" + s.window.mode + ")" +
    (s.mature === false ? ", warming up: mature from " + s.min_samples + " samples (alpha reads high until then)" : "") +
    (s.refresh_error ? ", last refresh failed: " + s.refresh_error : "") +
    (s.flags.length ? ", flags: " + s.flags.join(", ") : "");
  document.getElementById("metrics").innerHTML = "effective rank " + s.effective_rank.toFixed(2) +
    "<br>participation ratio " + s.participation_ratio.toFixed(2) + "<br>stable rank " + s.stable_rank.toFixed(2) +
    "<br>numerical rank " + s.numerical_rank + " of " + s.dims + " units" +
    (s.smoothness_margin !== undefined && s.smoothness_margin !== null ? "<br>smoothness margin " + s.smoothness_margin.toFixed(3) : "") +
    (s.cvpca ? "<br>cvPCA alpha " + (s.cvpca.alpha === null ? "n/a" : s.cvpca.alpha.toFixed(3)) : "") +
    "<br>redundancy bound " + (s.capacity.redundancy === null ? "n/a" : s.capacity.redundancy.toFixed(3));
  const p = s.projection;
  if (p && p.trajectory.length) {
    put("trajectory", chart([{ name: "step " + p.step + ", " + p.trajectory.length + " points", points: p.trajectory.map(q => ({ x: q[0], y: q[1] })) }],
      { xlabel: "projection 1 (vs projection 2)" }));
    document.getElementById("trajectory-facts").textContent = "energy slope " +
      (p.energy_slope === null ? "n/a (one density)" : p.energy_slope.toFixed(3) + (p.smooth ? " (smooth)" : " (rough)")) +
      ", read-out R^2 " + (p.readout_r2 === null ? "n/a" : p.readout_r2.toFixed(3));
  }
}

function renderAlerts() {
  document.getElementById("alerts").innerHTML = state.alerts.slice(-50).reverse().map(a =>
    "<li>" + new Date(a.time_ms).toLocaleTimeString() + " <b>" + esc(a.kind) + "</b> " + esc(a.message) + "</li>").join("");
}

async function select(run, layer) {
  state.run = run; state.layer = layer;
  renderNav();
  await Promise.all((state.runs[run] || []).map(async l => {
    try { state.history[run + "/" + l] = (await getJson("/v1/runs/" + run + "/layers/" + l + "/history")).history; } catch (e) { }
  }));
  try { state.snapshots[run + "/" + layer] = await getJson("/v1/runs/" + run + "/layers/" + layer + "/spectrum"); } catch (e) { }
  renderHistory(); renderSnapshot();
}

async function loadRuns() {
  const doc = await getJson("/v1/runs");
  state.runs = {};
  doc.runs.forEach(r => { state.runs[r.run] = r.layers.map(l => l.layer); state.ended[r.run] = r.ended; });
  renderNav();
  if (!state.run && doc.runs.length) await select(doc.runs[0].run, doc.runs[0].layers[0].layer);
}

function connect() {
  const es = new EventSource("/v1/events");
  es.onopen = () => document.getElementById("status").textContent = "live";
  es.onerror = () => document.getElementById("status").textContent = "reconnecting...";
  es.addEventListener("snapshot", ev => {
    const s = JSON.parse(ev.data), key = s.run + "/" + s.layer;
    if (!state.runs[s.run] || !state.runs[s.run].includes(s.layer)) { loadRuns(); }
    state.snapshots[key] = s;
    const h = state.history[key] || (state.history[key] = []);
    if (!h.length || h[h.length - 1].step !== s.step || h[h.length - 1].alpha !== s.alpha) h.push({ step: s.step, alpha: s.alpha });
    if (s.run === state.run) renderHistory();
    if (key === state.run + "/" + state.layer) renderSnapshot();
  });
  es.addEventListener("alert", ev => { state.alerts.push(JSON.parse(ev.data)); renderAlerts(); });
}

(async function main() {
  try {
    state.alerts = (await getJson("/v1/alerts")).alerts;
    renderAlerts();
    await loadRuns();
  } catch (e) { document.getElementById("status").textContent = "error: " + e.message; }
  connect();
})();
