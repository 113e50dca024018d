// explorer.js: the explorer page: status, blocks, transactions, validators and a
// chart, kept live through the node's /events stream. Plain browser JavaScript.
"use strict";

const BLOCKS_SHOWN = 15;      // rows in "Latest blocks"
const TXS_SHOWN = 15;         // rows in "Latest transactions"
const CHART_BLOCKS = 100;     // blocks the chart covers (one /blocks request)
const STATUS_MIN_MS = 400;    // at most one /status refresh per this interval

const state = {
  height: null,
  blocks: new Map(),          // height -> summary {height, hash, time_ms, proposer, txs}
  txs: [],                    // newest first: {hash, contract, method, sender, height, code}
  status: null,
  statusAt: 0,
  statusTimer: null,
  es: null,
};

const $ = (id) => document.getElementById(id);
const short = (h, n = 10) => (h && h.length > n + 2 ? h.slice(0, n) + "\u2026" : h || "");
const fmtTime = (ms) => (ms ? new Date(ms).toLocaleTimeString() : "genesis");
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

// ---------------------------------------------------------------- read tokens
// A private (domain) ledger answers only its members. A member makes a read
// token with its key (`edgefed token make --key KEY --api URL --explorer`) and
// opens URL/#token=HEX, or pastes the token: the page keeps it for this tab
// (sessionStorage), drops it from the address bar and sends it with each read as
// "Authorization: Bearer HEX". The node checks it on every read; the page only
// decodes it to show whose it is and until when.

const TOKEN_KEY = "edgefed.read_token";

function takeTokenFromUrl() {
  const m = location.hash.match(/^#token=([0-9a-fA-F]+)$/);
  if (!m) return;
  sessionStorage.setItem(TOKEN_KEY, m[1].toLowerCase());
  history.replaceState(null, "", location.pathname + location.search);
}

const readToken = () => sessionStorage.getItem(TOKEN_KEY);
const authHeaders = () => (readToken() ? { Authorization: `Bearer ${readToken()}` } : {});

// The token's fields (api/ef_api.h): u8 version, u32le length + chain id, key[32],
// u64le issued, u64le expires, signature[64]. null if it does not parse.
function decodeToken(hex) {
  if (!/^([0-9a-f]{2})+$/.test(hex)) return null;
  const b = new Uint8Array(hex.match(/../g).map((x) => parseInt(x, 16)));
  const dv = new DataView(b.buffer);
  if (b.length < 5 || b[0] !== 1) return null;
  const n = dv.getUint32(1, true);
  if (b.length !== 5 + n + 32 + 16 + 64) return null;
  const chain = new TextDecoder().decode(b.slice(5, 5 + n));
  const key = hex.slice(2 * (5 + n), 2 * (5 + n + 32));
  const issued = Number(dv.getBigUint64(5 + n + 32, true)), expires = Number(dv.getBigUint64(5 + n + 40, true));
  return { chain, key, issued, expires };
}

function showLogin(reason) {
  $("login").hidden = false;
  $("login-cmd").textContent = `edgefed token make --key KEYFILE --api ${location.origin} --explorer`;
  const e = $("login-error");
  e.hidden = !reason;
  e.textContent = reason || "";
}

function showWho() {
  const t = readToken() && decodeToken(readToken());
  $("who").hidden = !t;
  if (t) $("who-text").textContent = `member ${short(t.key, 8)} \u00b7 token until ${new Date(t.expires).toLocaleTimeString()}`;
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  showWho();
  showLogin(reason);
}

async function getJSON(path) {
  const r = await fetch(path, { cache: "no-store", headers: authHeaders() });
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    const msg = body && body.error ? body.error : r.statusText;
    const err = new Error(`${path}: ${r.status} ${msg}`);
    err.status = r.status;
    throw err;
  }
  return body;
}

function showError(text) {
  const el = $("error");
  if (!text) { el.hidden = true; return; }
  el.textContent = text;
  el.hidden = false;
}

function setStat(id, value) {
  const el = $(id);
  const text = String(value);
  if (el.textContent !== text) {
    el.textContent = text;
    el.classList.add("bump");
    setTimeout(() => el.classList.remove("bump"), 600);
  }
}

// ---------------------------------------------------------------- status

// The node counts transactions up to txs_counted_to; blocks this page saw after
// that are added so the total never lags the list.
function totalTxs() {
  const s = state.status;
  if (!s || s.txs_total == null) return "\u2013";
  let n = s.txs_total;
  for (const [h, b] of state.blocks) if (h > s.txs_counted_to) n += b.txs;
  return n;
}

function renderStatus(s) {
  state.status = s;
  $("chain-id").textContent = s.chain_id;
  if (state.height === null || s.height > state.height) state.height = s.height;
  setStat("stat-height", state.height);
  setStat("stat-txs", totalTxs());
  setStat("stat-round", s.round != null ? s.round : "\u2013");
  setStat("stat-validators", (s.validators || []).length);
  setStat("stat-peers", s.peers != null ? s.peers : "\u2013");
  setStat("stat-mempool", s.mempool_txs != null ? s.mempool_txs : "\u2013");
  $("stat-last").textContent = `${short(s.last_hash, 16)} \u00b7 ${fmtTime(s.last_time_ms)}`;
  const tb = $("validators").tBodies[0];
  tb.innerHTML = "";
  for (const v of s.validators || []) {
    let pill;
    if (v.connected === false) pill = '<span class="pill bad" title="this node has no connection to it">offline</span>';
    else if (v.signed_last) pill = '<span class="pill ok" title="its precommit is in the last block\'s certificate">signing</span>';
    else if (v.signed_last == null) pill = '<span class="pill idle">no certificate yet</span>';
    else pill = '<span class="pill idle" title="connected; its precommit was not among those in the last certificate">late</span>';
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${keyLink(v.key)}</td><td>${esc(v.role || "")}</td>` +
      `<td>${esc(v.domain || "")}</td><td>${esc(v.name || "")}</td><td class="num">${esc(v.power)}</td><td>${pill}</td>`;
    tb.appendChild(tr);
  }
}

async function refreshStatus() {
  state.statusAt = Date.now();
  try {
    renderStatus(await getJSON("/status"));
    showError(null);
  } catch (e) {
    if (e.status === 403) {
      // a refused token is dropped; the node's reason says why (expired, not a member, ...)
      if (readToken()) signOut(`The node refused the read token: ${e.message.replace(/^\/status: 403 /, "")}`);
      else showLogin(null);
      showError(null);
      return;
    }
    showError(`Cannot read the node's status: ${e.message}`);
  }
}

function scheduleStatus() {
  if (state.statusTimer) return;
  const wait = Math.max(0, STATUS_MIN_MS - (Date.now() - state.statusAt));
  state.statusTimer = setTimeout(() => { state.statusTimer = null; refreshStatus(); }, wait);
}

// ---------------------------------------------------------------- blocks

function renderBlocks(freshHeight) {
  const tb = $("blocks").tBodies[0];
  tb.innerHTML = "";
  const hs = [...state.blocks.keys()].sort((a, b) => b - a).slice(0, BLOCKS_SHOWN);
  for (const h of hs) {
    const b = state.blocks.get(h);
    const tr = document.createElement("tr");
    tr.className = "row" + (h === freshHeight ? " fresh" : "");
    tr.dataset.height = h;
    tr.innerHTML = `<td><a href="#/block/${h}">${h}</a></td><td>${esc(fmtTime(b.time_ms))}</td>` +
      `<td class="mono" title="${esc(b.proposer)}">${esc(short(b.proposer))}</td><td class="num">${b.txs}</td>`;
    tr.onclick = () => { location.hash = `#/block/${h}`; };
    tb.appendChild(tr);
  }
}

function renderTxs(freshHashes) {
  const tb = $("txs").tBodies[0];
  tb.innerHTML = "";
  if (!state.txs.length) {
    tb.innerHTML = '<tr class="empty"><td colspan="5">no transactions yet</td></tr>';
    return;
  }
  for (const t of state.txs.slice(0, TXS_SHOWN)) {
    const tr = document.createElement("tr");
    tr.className = "row" + (freshHashes && freshHashes.has(t.hash) ? " fresh" : "");
    tr.dataset.hash = t.hash;
    const ok = t.code === "OK";
    tr.innerHTML = `<td class="mono"><a href="#/tx/${esc(t.hash)}">${esc(short(t.hash, 12))}</a></td>` +
      `<td>${esc(t.contract)}.${esc(t.method)}</td><td class="mono" title="${esc(t.sender)}">${esc(short(t.sender))}</td>` +
      `<td><a href="#/block/${t.height}">${t.height}</a></td>` +
      `<td><span class="pill ${ok ? "ok" : "bad"}">${esc(t.code)}</span></td>`;
    tr.onclick = (ev) => { if (ev.target.tagName !== "A") location.hash = `#/tx/${t.hash}`; };
    tb.appendChild(tr);
  }
}

// Adds a block summary; fetches its transactions if it has any.
async function addBlock(b, fresh) {
  state.blocks.set(b.height, { height: b.height, hash: b.hash, time_ms: b.time_ms, proposer: b.proposer, txs: b.txs });
  for (const h of [...state.blocks.keys()]) if (h < b.height - CHART_BLOCKS) state.blocks.delete(h);
  if (state.height === null || b.height > state.height) {
    state.height = b.height;
    setStat("stat-height", b.height);
  }
  setStat("stat-txs", totalTxs());
  if (fresh) { renderBlocks(b.height); drawChart(); }
  if (b.txs > 0) await loadBlockTxs(b.height, fresh);
}

async function loadBlockTxs(h, fresh) {
  let full;
  try { full = await getJSON(`/blocks/${h}`); } catch (e) { return; }
  const fresh_ = new Set();
  for (const t of full.txs || []) {
    if (state.txs.some((x) => x.hash === t.hash)) continue;
    state.txs.push({ hash: t.hash, contract: t.contract, method: t.method, sender: t.sender, height: h, code: t.code || "OK" });
    fresh_.add(t.hash);
  }
  state.txs.sort((a, b) => b.height - a.height);
  state.txs = state.txs.slice(0, 200);
  renderTxs(fresh ? fresh_ : null);
}

async function loadRecent(top) {
  const from = Math.max(0, top - CHART_BLOCKS + 1);
  const r = await getJSON(`/blocks?from=${from}&to=${top}`);
  for (const b of r.blocks) state.blocks.set(b.height, b);
  renderBlocks(null);
  drawChart();
  // Transactions of the latest blocks that have any, newest first.
  const withTxs = r.blocks.filter((b) => b.txs > 0).sort((a, b) => b.height - a.height).slice(0, 10);
  for (const b of withTxs) {
    await loadBlockTxs(b.height, false);
    if (state.txs.length >= TXS_SHOWN) break;
  }
}

// ---------------------------------------------------------------- chart

function drawChart() {
  const cv = $("chart");
  const dpr = window.devicePixelRatio || 1;
  const w = cv.clientWidth, h = 160;
  cv.width = w * dpr; cv.height = h * dpr;
  const g = cv.getContext("2d");
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, h);
  const bs = [...state.blocks.values()].filter((b) => b.height > 0).sort((a, b) => a.time_ms - b.time_ms);
  const left = 36, bottom = 20, top = 8, right = 8;
  g.strokeStyle = "#e3e7ee"; g.fillStyle = "#6b7588"; g.font = "11px system-ui, sans-serif";
  if (bs.length < 1) { g.fillText("waiting for blocks\u2026", left, h / 2); return; }
  // at least the last minute, so buckets are never shorter than a second
  const t1 = bs[bs.length - 1].time_ms, t0 = Math.min(bs[0].time_ms, t1 - 60000);
  const buckets = Math.max(10, Math.min(60, Math.floor((w - left - right) / 12)));   // <= 60
  const span = (t1 - t0) / buckets;
  const counts = new Array(buckets).fill(0);
  for (const b of bs) counts[Math.min(buckets - 1, Math.floor((b.time_ms - t0) / span))] += b.txs;
  const max = Math.max(4, Math.ceil(Math.max(...counts) / 4) * 4);   // four integer grid steps
  const plotW = w - left - right, plotH = h - top - bottom;
  for (let i = 0; i <= 4; i++) {       // grid and y labels
    const y = top + plotH - (plotH * i) / 4;
    g.beginPath(); g.moveTo(left, y); g.lineTo(w - right, y); g.stroke();
    g.fillText(String((max * i) / 4), 4, y + 4);
  }
  const bw = plotW / buckets;
  g.fillStyle = "#1769e0";
  counts.forEach((c, i) => {
    const bh = (plotH * c) / max;
    g.fillRect(left + i * bw + 1, top + plotH - bh, Math.max(1, bw - 2), bh);
  });
  g.fillStyle = "#6b7588";
  g.fillText(fmtTime(t0), left, h - 5);
  const endLabel = fmtTime(t1);
  g.fillText(endLabel, w - right - g.measureText(endLabel).width, h - 5);
  const secs = span / 1000;
  $("chart-hint").textContent = `transactions per ${secs >= 1 ? secs.toFixed(1) + " s" : Math.round(span) + " ms"}, ` +
    `last ${bs.length} blocks`;
}

// ---------------------------------------------------------------- detail

function kv(rows) {
  return '<dl class="kv">' + rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join("") + "</dl>";
}

// A key, linked to its account view.
function keyLink(k, n = 16) {
  return `<a class="mono" href="#/account/${esc(k)}" title="${esc(k)}">${esc(short(k, n))}</a>`;
}

async function showDetail() {
  if (/^#token=/.test(location.hash)) { takeTokenFromUrl(); location.reload(); return; }   // signed in on an open page
  const lm = location.hash.match(/^#\/lineage\/(.+)$/);
  if (lm) { showLineage(decodeURI(lm[1])); return; }
  const dm = location.hash.match(/^#\/domain\/(.+)$/);
  if (dm) { showDomain(decodeURIComponent(dm[1])); return; }
  const nm = location.hash.match(/^#\/nslice\/(.+)$/);
  if (nm) { showInstance(decodeURIComponent(nm[1])); return; }
  const em = location.hash.match(/^#\/e2e\/(.+)$/);
  if (em) { showE2e(decodeURIComponent(em[1])); return; }
  const m = location.hash.match(/^#\/(block|tx|account)\/([0-9a-fA-F]+)$/);
  const box = $("detail");
  if (!m) { box.hidden = true; return; }
  box.hidden = false;
  const body = $("detail-body");
  body.textContent = "loading\u2026";
  try {
    if (m[1] === "block") {
      const b = await getJSON(`/blocks/${m[2]}`);
      $("detail-title").textContent = `Block ${b.height}`;
      const txRows = (b.txs || []).map((t) =>
        `<tr class="row"><td class="mono"><a href="#/tx/${esc(t.hash)}">${esc(short(t.hash, 16))}</a></td>` +
        `<td>${esc(t.contract)}.${esc(t.method)}</td><td class="mono">${esc(short(t.sender))}</td>` +
        `<td><span class="pill ${t.code === "OK" ? "ok" : "bad"}">${esc(t.code || "")}</span></td></tr>`).join("");
      body.innerHTML = kv([
        ["hash", esc(b.hash)], ["time", `${esc(fmtTime(b.time_ms))} (${esc(b.time_ms)})`],
        ["proposer", keyLink(b.proposer, 64)], ["round", esc(b.round == null ? "\u2013" : b.round)],
        ["previous", b.height > 0 ? `<a href="#/block/${b.height - 1}">${esc(b.prev_hash)}</a>` : esc(b.prev_hash)],
        ["txs root", esc(b.txs_root)], ["results root", esc(b.results_root)], ["state hash", esc(b.state_hash)],
        ["validator set", esc(b.vset_hash)], ["next height's set", esc(b.next_vset_hash || "\u2013")],
        ["signers", (b.signers || []).map((s) => keyLink(s)).join(", ") || "\u2013"],
      ]) + `<h2>${(b.txs || []).length} transactions</h2>` +
        (txRows ? `<table class="list"><thead><tr><th>Hash</th><th>Call</th><th>Sender</th><th>Result</th></tr></thead><tbody>${txRows}</tbody></table>` : "");
    } else if (m[1] === "account") {
      const a = await getJSON(`/accounts/${m[2]}`);
      $("detail-title").textContent = `Account ${short(a.key, 16)}`;
      body.innerHTML = kv([
        ["key", esc(a.key)], ["role", esc(a.role)], ["domain", esc(a.domain || "\u2013")],
        ["name", esc(a.name || "\u2013")], ["balance", esc(a.balance)], ["next nonce", esc(a.nonce)],
      ]);
    } else {
      const t = await getJSON(`/txs/${m[2]}`);
      $("detail-title").textContent = `Transaction ${short(t.hash, 16)}`;
      body.innerHTML = kv([
        ["hash", esc(t.hash)], ["block", `<a href="#/block/${t.height}">${t.height}</a> position ${t.index}`],
        ["time", esc(fmtTime(t.time_ms))], ["sender", keyLink(t.sender, 64)], ["nonce", esc(t.nonce)],
        ["call", `${esc(t.contract)}.${esc(t.method)}`],
        ["result", `<span class="pill ${t.code === "OK" ? "ok" : "bad"}">${esc(t.code)}</span>`],
      ]) + "<h2>Arguments</h2>" + `<pre class="json">${esc(JSON.stringify(t.args !== undefined ? t.args : t.args_hex, null, 2))}</pre>` +
        `<h2>Events (${(t.events || []).length})</h2>` + `<pre class="json">${esc(JSON.stringify(t.events || [], null, 2))}</pre>`;
    }
    box.scrollIntoView({ behavior: "smooth", block: "nearest" });
  } catch (e) {
    body.textContent = e.message;
  }
}

// ---------------------------------------------------------------- provenance

const SVGNS = "http://www.w3.org/2000/svg";
const PROV_W = 200, PROV_H = 86, PROV_NW = 170, PROV_NH = 36;

function svgEl(tag, attrs, parent) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// Layers: the root at 0, every other node one below the first node that reaches it.
function provLayout(lin) {
  const depth = new Map([[lin.root, 0]]);
  for (let changed = true; changed;) {
    changed = false;
    for (const s of lin.steps) {
      const df = depth.get(s.from), dt = depth.get(s.to);
      if (df !== undefined && dt === undefined) { depth.set(s.to, df + 1); changed = true; }
      else if (dt !== undefined && df === undefined) { depth.set(s.from, dt + 1); changed = true; }
    }
  }
  const order = { entity: 0, activity: 1, agent: 2 };
  const layers = [];
  for (const n of lin.nodes) {
    const d = depth.has(n.id) ? depth.get(n.id) : 0;
    (layers[d] = layers[d] || []).push(n);
  }
  const pos = new Map();
  layers.forEach((l, d) => {
    l.sort((a, b) => order[a.kind] - order[b.kind] || (a.id < b.id ? -1 : 1));
    l.forEach((n, i) => pos.set(n.id, { x: 10 + i * PROV_W, y: 10 + d * PROV_H, kind: n.kind }));
  });
  return { pos, width: Math.max(1, ...layers.map((l) => l.length)) * PROV_W + 20, height: layers.length * PROV_H + 20 };
}

// The lineage as SVG, with PROV's shapes: entities yellow ellipses, activities
// blue rectangles, agents orange houses.
function drawLineage(lin) {
  const box = $("prov-graph");
  box.innerHTML = "";
  const { pos, width, height } = provLayout(lin);
  const svg = svgEl("svg", { width, height, viewBox: `0 0 ${width} ${height}`, id: "prov-svg" }, box);
  const defs = svgEl("defs", {}, svg);
  const mk = svgEl("marker", { id: "prov-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7,
                               markerHeight: 7, orient: "auto" }, defs);
  svgEl("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8a94a6" }, mk);
  for (const s of lin.steps) {
    const a = pos.get(s.from), b = pos.get(s.to);
    if (!a || !b) continue;
    const x1 = a.x + PROV_NW / 2, x2 = b.x + PROV_NW / 2;
    const down = b.y >= a.y;
    const y1 = a.y + (down ? PROV_NH : 0), y2 = b.y + (down ? 0 : PROV_NH);
    const my = (y1 + y2) / 2 + (a.y === b.y ? 30 : 0);
    svgEl("path", { class: "rel", d: `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`, "marker-end": "url(#prov-arrow)",
                    "data-kind": s.kind }, svg);
    const t = svgEl("text", { class: "rel-label", x: (x1 + x2) / 2 + 3, y: my }, svg);
    t.textContent = s.kind;
  }
  for (const [id, p] of pos) {
    const g = svgEl("g", { class: "node" + (id === lin.root ? " root" : ""), "data-id": id }, svg);
    const cx = p.x + PROV_NW / 2, cy = p.y + PROV_NH / 2;
    if (p.kind === "entity")
      svgEl("ellipse", { class: "entity", cx, cy, rx: PROV_NW / 2, ry: PROV_NH / 2, fill: "#FFFC87", stroke: "#808080" }, g);
    else if (p.kind === "activity")
      svgEl("rect", { class: "activity", x: p.x, y: p.y, width: PROV_NW, height: PROV_NH, fill: "#9FB1FC", stroke: "#0000FF" }, g);
    else
      svgEl("polygon", { class: "agent", fill: "#FED37F", stroke: "#000",
                         points: `${p.x},${p.y + 10} ${cx},${p.y} ${p.x + PROV_NW},${p.y + 10} ${p.x + PROV_NW},${p.y + PROV_NH} ${p.x},${p.y + PROV_NH}` }, g);
    const t = svgEl("text", { x: cx, y: cy + 4, "text-anchor": "middle" }, g);
    t.textContent = id.startsWith("acct:") ? short(id, 17) : id;
    const title = svgEl("title", {}, g);
    title.textContent = `${p.kind} ${id}`;
    g.addEventListener("click", () => { location.hash = `#/lineage/${id}`; });
  }
}

async function showLineage(qname) {
  $("prov-q").value = qname;
  const tb = $("prov-steps").tBodies[0];
  tb.innerHTML = "";
  let lin;
  try {
    lin = await getJSON(`/state/prov/lineage/${encodeURI(qname)}`);
  } catch (e) {
    $("prov-graph").textContent = e.status === 404 ? `${qname}: no such element on the ledger` : e.message;
    $("prov-steps").hidden = true;
    return;
  }
  drawLineage(lin);
  $("prov-hint").textContent = `lineage of ${lin.root}: ${lin.nodes.length} elements, ${lin.steps.length} relations`;
  $("prov-export").href = `/state/prov/export/lineage/${encodeURI(qname)}`;
  $("prov-export").textContent = "this lineage as PROV-JSON";
  for (const s of lin.steps) {
    const tr = document.createElement("tr");
    tr.className = "row";
    tr.innerHTML = `<td class="mono">${esc(short(s.from, 28))}</td><td>${esc(s.kind)}</td>` +
      `<td class="mono">${esc(short(s.to, 28))}</td><td><a href="#/block/${s.height}">${s.height}</a></td>` +
      `<td class="mono"><a href="#/tx/${esc(s.tx)}">${esc(short(s.tx, 16))}</a></td>`;
    tb.appendChild(tr);
  }
  $("prov-steps").hidden = false;
  $("prov-card").scrollIntoView({ behavior: "smooth", block: "nearest" });
}

// ---------------------------------------------------------------- edge market

const COMPANY_COLOURS = ["#1769e0", "#d97706", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#be185d", "#4d7c0f"];
let marketTimer = null;

function scheduleMarket() {
  if (marketTimer) return;
  marketTimer = setTimeout(() => { marketTimer = null; loadMarket(); }, 300);
}

// The map: ENs as circles coloured by company, each match a dashed line from the
// device's requested location (a square) to its EN; active matches drawn solid.
function drawMarket(ens, matches) {
  const svg = $("market-map");
  const W = 600, H = 400, pad = 28;
  const pts = ens.map((e) => [e.x, e.y]).concat(matches.map((m) => [m.request.x, m.request.y]));
  const companies = [...new Set(ens.map((e) => e.company).concat(matches.map((m) => m.company)))].sort();
  const colour = (c) => COMPANY_COLOURS[companies.indexOf(c) % COMPANY_COLOURS.length];
  if (!pts.length) {
    svg.innerHTML = `<text x="${W / 2 - 60}" y="${H / 2}">no edge nodes registered</text>`;
    $("market-legend").innerHTML = "";
    return;
  }
  const x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  const y0 = Math.min(...pts.map((p) => p[1])), y1 = Math.max(...pts.map((p) => p[1]));
  const scale = Math.min((W - 2 * pad) / Math.max(x1 - x0, 1), (H - 2 * pad) / Math.max(y1 - y0, 1));
  const sx = (x) => pad + (x - x0) * scale;
  const sy = (y) => H - pad - (y - y0) * scale;
  const enById = new Map(ens.map((e) => [e.en, e]));
  let out = "";
  const devices = new Map();
  for (const m of matches) {
    const e = enById.get(m.en) || { x: m.en_x, y: m.en_y, company: m.company };
    const active = m.state === "active";
    out += `<line class="link" data-match="${m.match}" x1="${sx(m.request.x).toFixed(1)}" y1="${sy(m.request.y).toFixed(1)}" ` +
      `x2="${sx(m.en_x).toFixed(1)}" y2="${sy(m.en_y).toFixed(1)}" stroke="${colour(e.company)}"` +
      `${active ? ' style="stroke-dasharray:none"' : ""}><title>match ${m.match}: EN ${m.en}, dist\u00b2 ${m.dist2}</title></line>`;
    devices.set(`${m.device}:${m.request.x}:${m.request.y}`, m);
  }
  for (const m of devices.values())
    out += `<rect class="dev" x="${(sx(m.request.x) - 4).toFixed(1)}" y="${(sy(m.request.y) - 4).toFixed(1)}" width="8" height="8">` +
      `<title>device ${esc(short(m.device))} at (${m.request.x}, ${m.request.y})</title></rect>`;
  for (const e of ens)
    out += `<circle class="en" data-en="${e.en}" data-company="${esc(e.company)}" cx="${sx(e.x).toFixed(1)}" cy="${sy(e.y).toFixed(1)}" r="8" fill="${colour(e.company)}">` +
      `<title>EN ${e.en} of ${esc(short(e.company))}: (${e.x}, ${e.y}), price ${e.price}, slots ${e.slots_used}/${e.slots}</title></circle>` +
      `<text x="${(sx(e.x) + 10).toFixed(1)}" y="${(sy(e.y) + 4).toFixed(1)}">EN ${e.en}</text>`;
  svg.innerHTML = out;
  $("market-legend").innerHTML = companies.map((c) =>
    `<span><span class="sw" style="background:${colour(c)}"></span>${keyLink(c, 8)}</span>`).join("") +
    '<span><span class="sw" style="background:#1d2533;border-radius:0"></span>device</span>';
}

function renderMatches(matches) {
  const tb = $("matches").tBodies[0];
  if (!matches.length) { tb.innerHTML = '<tr class="empty"><td colspan="9">no matches yet</td></tr>'; return; }
  tb.innerHTML = matches.slice(0, 20).map((m) =>
    `<tr class="match"><td>${m.match}</td><td>${keyLink(m.device, 8)}</td><td>${m.en}</td><td class="num">${m.dist2}</td>` +
    `<td class="num">${m.price}</td><td class="num">${m.eligible}</td><td class="num">${m.scanned}</td>` +
    `<td class="num"><a href="#/block/${m.height}">${m.height}</a></td>` +
    `<td><span class="pill ${m.state === "active" ? "ok" : "idle"}">${esc(m.state)}</span></td></tr>`).join("");
}

function renderChannels(chs) {
  const tb = $("channels").tBodies[0];
  if (!chs.length) { tb.innerHTML = '<tr class="empty"><td colspan="7">no open channels</td></tr>'; return; }
  tb.innerHTML = chs.slice(0, 20).map((c) =>
    `<tr class="channel"><td>${c.channel}</td><td>${keyLink(c.payer, 8)}</td><td>${keyLink(c.payee, 8)}</td>` +
    `<td class="num deposit">${c.deposit}</td><td class="num redeemed">${c.redeemed}</td><td class="num">${c.expiry}</td>` +
    `<td><span class="pill ${c.state === "open" ? "ok" : "bad"}">${esc(c.state)}</span></td></tr>`).join("");
}

async function loadMarket() {
  try {
    const [ens, matches, chs] = await Promise.all([getJSON("/state/market/ens"), getJSON("/state/market/matches"),
                                                   getJSON("/state/channel/channels")]);
    drawMarket(ens, matches);
    renderMatches(matches);
    renderChannels(chs);
    $("market-hint").textContent = `${ens.length} edge nodes, ${matches.length} matches, ${chs.length} open channels`;
  } catch (e) {
    $("market-hint").textContent = e.message;
  }
}

// ---------------------------------------------------------------- SLAs

const SLA_SHOWN = 10;
const EPOCH_CLASS = { paid: "ep-paid", breached: "ep-breached", proposed: "ep-disputed", disputed: "ep-disputed",
                      ruled: "ep-ruled", forfeit: "ep-paid", refunded: "ep-open", open: "ep-open" };
let slaTimer = null;

function scheduleSla() {
  if (slaTimer) return;
  slaTimer = setTimeout(() => { slaTimer = null; loadSla(); }, 300);
}

// One small square per epoch, coloured by its status (receipted, breached, disputed ...).
function epochCells(s) {
  return (s.epoch_status || []).map((st, i) =>
    `<span class="ep ${EPOCH_CLASS[st] || "ep-open"}" data-epoch="${i}" data-status="${esc(st)}" ` +
    `title="epoch ${i}: ${esc(st)}, verdict ${s.verdicts[i]}"></span>`).join("");
}

function renderSlas(slas) {
  const tb = $("slas").tBodies[0];
  if (!slas.length) { tb.innerHTML = '<tr class="empty"><td colspan="9">no SLAs yet</td></tr>'; return; }
  const pill = { active: "ok", pending: "idle", closed: "idle", nullified: "bad" };
  tb.innerHTML = slas.map((s) =>
    `<tr class="sla" data-sla="${s.sla}"><td>${s.sla}</td><td>${keyLink(s.operator, 8)}</td><td>${keyLink(s.customer, 8)}</td>` +
    `<td class="mono">${esc(s.ap)} &rarr; ${esc(s.dst)}${s.slice ? ` (${esc(s.slice)}: ${(s.path || []).map(esc).join(", ")})` : ""}</td>` +
    `<td class="epochs">${epochCells(s)}</td><td class="num paid">${s.paid}</td><td class="num refunded">${s.refunded}</td>` +
    `<td class="num">${s.left}</td><td><span class="pill ${pill[s.state] || "idle"}">${esc(s.state)}</span>` +
    `${s.reason ? ` <span class="hint">${esc(s.reason)}</span>` : ""}</td></tr>`).join("");
}

// The operator's tree as published on the ledger (/state/sla/topology/OP): layers
// top to bottom by depth, leaves side by side, each parent over its children;
// every link labelled reserved/capacity kbit/s, links with a reservation drawn
// thick in the reserved colour.
const TOPO_DX = 116, TOPO_DY = 74, TOPO_PAD = 30, TOPO_LABEL_W = 80;

function topoSvg(t) {
  const nodes = t.nodes || [], kids = new Map(), pos = new Map();
  nodes.forEach((n) => kids.set(n.name, []));
  nodes.forEach((n) => { if (n.parent && kids.has(n.parent)) kids.get(n.parent).push(n.name); });
  let leaf = 0, depthMax = 0;
  const place = (name, d) => {
    depthMax = Math.max(depthMax, d);
    const ch = kids.get(name);
    ch.forEach((c) => place(c, d + 1));
    const x = ch.length ? (pos.get(ch[0]).x + pos.get(ch[ch.length - 1]).x) / 2 : TOPO_PAD + TOPO_LABEL_W / 2 + TOPO_DX * leaf++;
    pos.set(name, { x, y: TOPO_PAD + TOPO_DY * d });
  };
  if (nodes.length) place(nodes[0].name, 0);
  const w = TOPO_PAD * 2 + TOPO_LABEL_W + TOPO_DX * Math.max(leaf - 1, 0), h = TOPO_PAD * 2 + TOPO_DY * depthMax;
  const links = (t.links || []).filter((l) => pos.has(l.parent) && pos.has(l.child)).map((l) => {
    const a = pos.get(l.parent), b = pos.get(l.child), r = l.reserved_kbps > 0;
    // the label sits halfway down the link, on the side it leans to, so siblings' labels do not meet
    const mx = a.x + (b.x - a.x) * 0.5, my = a.y + (b.y - a.y) * 0.5 + 4, left = b.x < a.x;
    return `<g class="topo-link${r ? " reserved" : ""}" data-link="${esc(l.name)}" data-reserved="${l.reserved_kbps}" ` +
      `data-kbps="${l.kbps}"><title>${esc(l.name)}: ${l.reserved_kbps} of ${l.kbps} kbit/s reserved` +
      `${l.slas && l.slas.length ? ` (SLA ${l.slas.join(", ")})` : ""}, ${l.latency_us} \u00b5s</title>` +
      `<line x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}"/>` +
      `<text x="${left ? mx - 5 : mx + 5}" y="${my}" text-anchor="${left ? "end" : "start"}">` +
      `${l.reserved_kbps}/${l.kbps}</text></g>`;
  }).join("");
  const dots = nodes.filter((n) => pos.has(n.name)).map((n) => {
    const p = pos.get(n.name);
    return `<g class="topo-node layer-${esc(n.layer)}" data-node="${esc(n.name)}"><title>${esc(n.name)} (${esc(n.layer)})</title>` +
      `<circle cx="${p.x}" cy="${p.y}" r="7"/><text x="${p.x}" y="${p.y - 11}">${esc(n.name)}</text></g>`;
  }).join("");
  return `<svg class="topo" data-operator="${esc(t.operator)}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ` +
    `role="img" aria-label="topology of ${esc(t.operator)}">${links}${dots}</svg>`;
}

async function loadTopologies(all) {
  const ops = [...new Set(all.map((s) => s.operator))];
  const got = await Promise.all(ops.map((op) => getJSON(`/state/sla/topology/${op}`).catch(() => null)));
  const tops = got.filter((t) => t && Array.isArray(t.nodes));
  $("sla-topo").innerHTML = tops.length
    ? tops.map((t) => `<div class="topo-op"><div class="hint">operator ${keyLink(t.operator, 8)}: links labelled ` +
        `reserved/capacity kbit/s (published at height ${t.height})</div>${topoSvg(t)}</div>`).join("")
    : '<div class="hint">no operator of these SLAs has published its topology</div>';
}

async function loadSla() {
  try {
    const all = await getJSON("/state/sla/all");
    const newest = all.slice(-SLA_SHOWN).reverse();
    const slas = await Promise.all(newest.map((s) => getJSON(`/state/sla/sla/${s.sla}`)));
    renderSlas(slas);
    await loadTopologies(all);
    const live = all.filter((s) => s.state === "active" || s.state === "pending").length;
    $("sla-hint").textContent = `${all.length} SLAs, ${live} live`;
  } catch (e) {
    $("sla-hint").textContent = e.message;
  }
}

// ---------------------------------------------------------------- anchored domains

const ANCHOR_SHOWN = 20;
let anchorTimer = null;

function scheduleAnchors() {
  if (anchorTimer) return;
  anchorTimer = setTimeout(() => { anchorTimer = null; loadAnchors(); }, 300);
}

function domainLink(name) {
  return `<a href="#/domain/${encodeURIComponent(name)}">${esc(name)}</a>`;
}

function renderAnchors(domains) {
  const tb = $("anchors").tBodies[0];
  if (!domains.length) { tb.innerHTML = '<tr class="empty"><td colspan="8">no domains registered</td></tr>'; return; }
  tb.innerHTML = domains.map((d) =>
    `<tr class="domain" data-domain="${esc(d.name)}"><td>${domainLink(d.name)}</td><td class="mono">${esc(d.chain_id)}</td>` +
    `<td class="num height">${d.height}</td><td class="mono" title="${esc(d.header_hash)}">${esc(short(d.header_hash, 12))}</td>` +
    `<td class="mono" title="${esc(d.committee_hash)}">${(d.committee || []).length} keys, ${esc(short(d.committee_hash, 8))}</td>` +
    `<td class="num">${d.committee_since}</td><td class="num">${d.checkpoints}</td>` +
    `<td><span class="pill ${d.frozen ? "bad" : "ok"}">${d.frozen ? "frozen" : "tracking"}</span></td></tr>`).join("");
}

async function loadAnchors() {
  try {
    const all = await getJSON("/state/anchor/domains");
    const shown = all.slice(0, ANCHOR_SHOWN);
    const domains = await Promise.all(shown.map((d) => getJSON(`/state/anchor/domain/${encodeURIComponent(d.name)}`)));
    renderAnchors(domains);
    const frozen = all.filter((d) => d.frozen).length;
    $("anchor-hint").textContent = `${all.length} domain${all.length === 1 ? "" : "s"}${frozen ? `, ${frozen} frozen` : ""}`;
    $("anchor").hidden = all.length === 0;
  } catch (e) {
    $("anchor-hint").textContent = e.message;
  }
}

async function showDomain(name) {
  const box = $("detail");
  box.hidden = false;
  const body = $("detail-body");
  body.textContent = "loading\u2026";
  try {
    const q = encodeURIComponent(name);
    const [d, cks, ev] = await Promise.all([getJSON(`/state/anchor/domain/${q}`), getJSON(`/state/anchor/checkpoints/${q}`),
                                            getJSON(`/state/anchor/evidence/${q}`)]);
    $("detail-title").textContent = `Domain ${d.name}`;
    const rows = cks.slice(-20).reverse().map((c) =>
      `<tr class="checkpoint"><td class="num">${c.height}</td><td class="mono">${esc(c.hash)}</td>` +
      `<td class="num"><a href="#/block/${c.anchored_at}">${c.anchored_at}</a></td></tr>`).join("");
    const evRows = ev.map((e) =>
      `<tr class="evidence"><td class="num">${e.height}</td><td class="num"><a href="#/block/${e.at}">${e.at}</a></td></tr>`).join("");
    body.innerHTML = kv([
      ["chain", esc(d.chain_id)], ["state", `<span class="pill ${d.frozen ? "bad" : "ok"}">${d.frozen ? "frozen" : "tracking"}</span>`],
      ["anchored height", esc(d.height)], ["header hash", esc(d.header_hash)], ["state hash", esc(d.state_hash)],
      ["txs root", esc(d.txs_root)], ["results root", esc(d.results_root)],
      ["committee", `${esc(d.committee_hash)} (signs from height ${d.committee_since})`],
      ["members", (d.committee || []).map((m) => `${keyLink(m.pub)} &times;${m.power}`).join(", ")],
      ["administrator", keyLink(d.admin, 64)], ["genesis", esc(d.genesis_hash)], ["freezes", esc(d.freezes)],
    ]) + `<h2>Checkpoints (newest ${Math.min(cks.length, 20)} of ${cks.length})</h2>` +
      `<table class="list"><thead><tr><th class="num">Height</th><th>Header hash</th><th class="num">Anchored in block</th></tr></thead><tbody>${rows}</tbody></table>` +
      (evRows ? `<h2>Evidence: conflicting certified headers</h2><table class="list"><thead><tr><th class="num">Domain height</th><th class="num">Recorded in block</th></tr></thead><tbody>${evRows}</tbody></table>` : "");
  } catch (e) {
    body.innerHTML = `<div class="error">${esc(e.message)}</div>`;
  }
}

// ---------------------------------------------------------------- committee epochs (seed 000)

const EPOCHS_SHOWN = 20;
let committeeTimer = null;

function scheduleCommittee() {
  if (committeeTimer) return;
  committeeTimer = setTimeout(() => { committeeTimer = null; loadCommittee(); }, 300);
}

function keyList(keys, missed) {
  const miss = new Set(missed || []);
  return (keys || []).map((k) => `<span class="${miss.has(k) ? "missed" : ""}">${keyLink(k, 8)}</span>`).join(" ");
}

function epochRow(e, current, nextStart) {
  const heights = current ? `${e.start} \u2013 (now ${e.height})` : `${e.start} \u2013 ${nextStart - 1}`;
  const seed = current
    ? `<span class="hint">${e.phase === "election" ? "revealed, election due" : e.phase + " window"}</span>`
    : `<span class="mono" title="${esc(e.seed)}">${esc(short(e.seed, 12))}</span> \u00b7 block <a href="#/block/${e.anchor_height}">${e.anchor_height}</a>`;
  const k = (e.committee || []).length;
  return `<tr class="epoch${current ? " current" : ""}" data-epoch="${e.epoch}"><td class="num">${e.epoch}` +
    `${current ? ' <span class="pill ok">current</span>' : ""}</td><td class="heights">${heights}</td>` +
    `<td class="keys">${keyList(e.committee, e.missed)}</td><td class="num">${(e.committed || []).length}/${k}</td>` +
    `<td class="num">${(e.revealed || []).length}/${k}</td><td class="keys">${keyList(e.missed)}</td><td>${seed}</td>` +
    `<td class="num">${current ? "" : `<a href="#/block/${e.elected_at}">${e.elected_at}</a>`}</td></tr>`;
}

async function loadCommittee() {
  let cfg, cur, past;
  try {
    cfg = await getJSON("/state/committee/config");
    [cur, past] = await Promise.all([getJSON("/state/committee/current"), getJSON("/state/committee/epochs")]);
  } catch (e) {
    if (e.status === 404) { $("committee").hidden = true; return; }   // no committee on this chain
    $("committee-hint").textContent = e.message;
    return;
  }
  $("committee").hidden = false;
  const kv2 = (k, v) => `<span><span class="k">${k}</span>${v}</span>`;
  $("epoch-now").innerHTML = [
    kv2("current epoch", `<b id="epoch-current">${cur.epoch}</b>`), kv2("since height", cur.start),
    kv2("phase", `<span class="pill ok">${esc(cur.phase)}</span>`),
    kv2("commit", `${cur.start} \u2013 ${cur.commit_end - 1}`), kv2("reveal", `${cur.commit_end} \u2013 ${cur.reveal_end - 1}`),
    kv2("election from", cur.elect_from),
    kv2("committed", `${cur.committed.length}/${cur.committee.length}`), kv2("revealed", `${cur.revealed.length}/${cur.committee.length}`),
    kv2("size", cfg.size), kv2("epoch length", `${cfg.epoch_heights} heights`),
  ].join("");
  const shown = past.slice(-EPOCHS_SHOWN).reverse();
  let next = cur.start;
  const rows = [epochRow(cur, true, 0)];
  for (const e of shown) { rows.push(epochRow(e, false, next)); next = e.start; }
  $("epochs").tBodies[0].innerHTML = rows.join("");
  $("committee-hint").textContent = `${past.length + 1} epochs, committees of ${cfg.size} elected every ` +
    `${cfg.epoch_heights} heights by commit-reveal among the outgoing committee`;
}

// ---------------------------------------------------------------- network slices (seed 000)

let slicesTimer = null;

function scheduleSlices() {
  if (slicesTimer) return;
  slicesTimer = setTimeout(() => { slicesTimer = null; loadSlices(); }, 300);
}

const SLICE_PILL = { active: "ok", modified: "ok", readjusted: "ok", failed: "bad", decommissioned: "idle" };
const lifePill = (l) => `<span class="pill ${SLICE_PILL[l] || "idle"}">${esc(l)}</span>`;
const statePill = (v, good) => `<span class="pill ${v === good ? "ok" : "idle"}">${esc(v)}</span>`;

// A part of an end-to-end slice: its domain, step, version and its latest proof.
function partCell(p) {
  const c = (p.claims || [])[(p.claims || []).length - 1];
  const proof = c
    ? ` \u00b7 <span class="mono" title="domain tx ${esc(c.tx_hash)}">${esc(short(c.tx_hash, 8))}</span> @${c.height}` +
      ` <span class="pill ok" title="verified on this ledger by the e2e contract in block ${c.claimed_at}">verified</span>` +
      ` (${p.claims.length} proof${p.claims.length === 1 ? "" : "s"})`
    : ' \u00b7 <span class="hint">no proof yet</span>';
  return `<span class="mono">${esc(p.domain)}</span> ${lifePill(p.step)} v${p.version}${proof}`;
}

async function loadSlices() {
  let tmpl = null, inst = null, e2e = null;
  try {
    // [] where nobody uses slices
    [tmpl, inst, e2e] = await Promise.all([getJSON("/state/nslice/templates"), getJSON("/state/nslice/instances"),
                                           getJSON("/state/e2e/slices")]);
  } catch (e) {
    $("slices-hint").textContent = e.message;
    return;
  }
  const have = (x) => Array.isArray(x) && x.length > 0;
  const haveT = have(tmpl), haveI = have(inst), haveE = have(e2e);
  $("slices").hidden = !haveT && !haveI && !haveE;
  $("ntemplates-box").hidden = !haveT;
  $("nslices-box").hidden = !haveI;
  $("e2eslices-box").hidden = !haveE;
  const names = new Map((tmpl || []).map((t) => [t.id, t.name]));
  if (haveT) {
    $("ntemplates").tBodies[0].innerHTML = tmpl.slice(-20).reverse().map((t) =>
      `<tr class="template" data-id="${esc(t.id)}"><td class="mono" title="${esc(t.id)}">${esc(short(t.id, 16))}</td>` +
      `<td>${esc(t.name)}</td><td class="num">${t.kbps_min} \u2013 ${t.kbps_max}</td>` +
      `<td class="num">${(t.max_latency_us / 1000).toFixed(1)} ms</td><td class="num">${t.max_loss_ppm} ppm</td>` +
      `<td>${esc(t.description || "")}</td><td class="num"><a href="#/block/${t.published_at}">${t.published_at}</a></td></tr>`).join("");
  }
  if (haveI) {
    $("nslices").tBodies[0].innerHTML = inst.slice(-20).reverse().map((i) =>
      `<tr class="instance" data-id="${esc(i.id)}"><td class="mono"><a href="#/nslice/${encodeURIComponent(i.id)}">${esc(i.id)}</a></td>` +
      `<td class="mono">${esc(i.ref)}</td><td class="mono" title="${esc(i.template)}">` +
      `${esc(names.get(i.template) || short(i.template, 12))}</td><td class="num">${i.kbps}</td>` +
      `<td class="num">${i.version}${i.pending ? " (+1 pending)" : ""}</td><td class="lifecycle">${lifePill(i.lifecycle)}</td>` +
      `<td class="admin">${statePill(i.admin, "unlocked")}</td><td class="oper">${statePill(i.oper, "enabled")}</td></tr>`).join("");
  }
  if (haveE) {
    // the list has each part's step; the records add their proofs
    const shown = e2e.slice(-20).reverse();
    const recs = await Promise.all(shown.map((x) => getJSON(`/state/e2e/slice/${encodeURIComponent(x.id)}`).catch(() => x)));
    $("e2eslices").tBodies[0].innerHTML = recs.map((x) =>
      `<tr class="e2e" data-id="${esc(x.id)}"><td class="mono"><a href="#/e2e/${encodeURIComponent(x.id)}">${esc(x.id)}</a></td>` +
      `<td class="num">${x.kbps}</td><td class="part-a">${partCell(x.a)}</td><td class="part-b">${partCell(x.b)}</td>` +
      `<td class="state">${lifePill(x.state)}</td></tr>`).join("");
  }
  const parts = [];
  if (haveT) parts.push(`${tmpl.length} template${tmpl.length === 1 ? "" : "s"}`);
  if (haveI) parts.push(`${inst.length} instance${inst.length === 1 ? "" : "s"} on this domain ledger`);
  if (haveE) parts.push(`${e2e.length} end-to-end, each step proven by its domain's transaction`);
  $("slices-hint").textContent = parts.join(", ");
}

// #/nslice/ID: an instance, its states and its history.
async function showInstance(id) {
  $("detail").hidden = false;
  const body = $("detail-body");
  body.textContent = "loading\u2026";
  try {
    const i = await getJSON(`/state/nslice/instance/${encodeURIComponent(id)}`);
    $("detail-title").textContent = `Slice instance ${i.id}`;
    const rows = (i.history || []).slice().reverse().map((h) =>
      `<tr class="step"><td>${esc(h.step)}</td><td class="num"><a href="#/block/${h.height}">${h.height}</a></td>` +
      `<td class="num">${h.version}</td><td class="num">${h.kbps}</td></tr>`).join("");
    body.innerHTML = kv([
      ["lifecycle", lifePill(i.lifecycle)], ["administrative state", statePill(i.admin, "unlocked")],
      ["operational state", statePill(i.oper, "enabled")], ["end-to-end slice", esc(i.ref)],
      ["template", `<span class="mono">${esc(i.template)}</span>`], ["owner", keyLink(i.owner, 64)],
      ["from / to", `${esc(i.ap)} \u2192 ${esc(i.dst)}`], ["version", esc(i.version)], ["kbit/s", esc(i.kbps)],
      ["path", esc((i.path || []).join(" \u2192 "))],
      ["pending change", i.pending ? esc(`version ${i.pending.version} (${i.pending.kind}), ${i.pending.kbps} kbit/s` +
        `${i.pending.reserved ? ", reserved" : ""}`) : "none"],
    ]) + `<h2>History (newest first)</h2><table class="list"><thead><tr><th>Step</th><th class="num">Block</th>` +
      `<th class="num">Version</th><th class="num">kbit/s</th></tr></thead><tbody>${rows}</tbody></table>`;
  } catch (e) {
    body.innerHTML = `<div class="error">${esc(e.message)}</div>`;
  }
}

// #/e2e/ID: an end-to-end slice and every proof its parts were taken on. A claim
// is on the ledger only if the e2e contract verified its proof there (against
// the domain's anchored checkpoint or its tracked committee's certificate); the
// anchor's checkpoints say which.
async function showE2e(id) {
  $("detail").hidden = false;
  const body = $("detail-body");
  body.textContent = "loading\u2026";
  try {
    const x = await getJSON(`/state/e2e/slice/${encodeURIComponent(id)}`);
    const doms = [x.a.domain, x.b.domain];
    const anchor = await Promise.all(doms.map(async (d) => {
      const q = encodeURIComponent(d);
      const [dom, cks] = await Promise.all([getJSON(`/state/anchor/domain/${q}`), getJSON(`/state/anchor/checkpoints/${q}`)]);
      return { dom, cks: new Map(cks.map((c) => [c.height, c])) };
    }));
    $("detail-title").textContent = `End-to-end slice ${x.id}`;
    const part = (name, p, an) => {
      const rows = (p.claims || []).map((c) => {
        const ck = an.cks.get(c.height);
        const by = ck
          ? `anchored: checkpoint of height ${c.height} (in block <a href="#/block/${ck.anchored_at}">${ck.anchored_at}</a>)`
          : `certified by the committee the anchor tracks (domain anchored to height ${an.dom.height})`;
        return `<tr class="proof" data-tx="${esc(c.tx_hash)}"><td>${esc(c.event)}</td><td class="num">${c.version}</td>` +
          `<td class="num">${c.kbps}</td><td class="mono" title="${esc(c.tx_hash)}">${esc(short(c.tx_hash, 16))}</td>` +
          `<td class="num height">${c.height}</td><td class="anchored">${by}</td>` +
          `<td><span class="pill ok">verified</span> in block <a href="#/block/${c.claimed_at}">${c.claimed_at}</a></td></tr>`;
      }).join("");
      return `<h2>Part ${name}: domain ${esc(p.domain)}, ${esc(p.ap)} \u2192 ${esc(p.dst)} ${lifePill(p.step)}</h2>` +
        kv([["instance", esc(p.instance || "")], ["version", esc(p.version)], ["kbit/s", esc(p.kbps)]]) +
        `<table class="list" id="proofs-${name}"><thead><tr><th>Proven event</th><th class="num">Version</th><th class="num">kbit/s</th>` +
        `<th>Domain transaction</th><th class="num">Domain height</th><th>Header trusted by</th><th>Proof</th></tr></thead>` +
        `<tbody>${rows || '<tr class="empty"><td colspan="7">no proof yet</td></tr>'}</tbody></table>`;
    };
    body.innerHTML = kv([["state", lifePill(x.state)], ["owner", keyLink(x.owner, 64)], ["kbit/s", esc(x.kbps)],
                         ["max latency", `${esc(x.max_latency_us)} us`], ["re-adjustments", esc(x.readjustments)]]) +
      part("a", x.a, anchor[0]) + part("b", x.b, anchor[1]);
  } catch (e) {
    body.innerHTML = `<div class="error">${esc(e.message)}</div>`;
  }
}

// ---------------------------------------------------------------- live

function setLive(mode, text) {
  const el = $("live");
  el.className = "live " + mode;
  $("live-text").textContent = text;
}

function onBlock(b) {
  setLive("on", "live");
  addBlock(b, true);
  scheduleStatus();
  if (readToken()) scheduleCommittee();
  if (b.txs > 0) { scheduleMarket(); scheduleSla(); scheduleAnchors(); scheduleSlices(); }
}

// With a read token: EventSource cannot send a header, so the stream is read
// through fetch; it ends at the token's expiry, and a refused reconnection says why.
async function connectWithToken(fromHeight) {
  let next = fromHeight;
  for (;;) {
    try {
      const r = await fetch(`/events?kind=block&from=${next}`, { cache: "no-store", headers: authHeaders() });
      if (r.status === 403) {
        let why = "refused";
        try { why = (await r.json()).error; } catch (e) { /* not JSON */ }
        setLive("off", "signed out");
        signOut(`The node refused the read token: ${why}`);
        return;
      }
      if (!r.ok || !r.body) throw new Error(`events: ${r.status}`);
      setLive("on", "live");
      const rd = r.body.getReader(), dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await rd.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const msg = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let type = "message", data = "";
          for (const line of msg.split("\n")) {
            if (line.startsWith("event: ")) type = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (type === "block" && data) {
            const b = JSON.parse(data);
            next = b.height + 1;
            onBlock(b);
          }
        }
      }
    } catch (e) { /* reconnect below */ }
    setLive("off", "reconnecting");
    await new Promise((res) => setTimeout(res, 1000));
  }
}

function connect(fromHeight) {
  if (readToken()) { connectWithToken(fromHeight); return; }
  const es = new EventSource(`/events?kind=block&from=${fromHeight}`);
  state.es = es;
  es.onopen = () => setLive("on", "live");
  es.onerror = () => setLive("off", "reconnecting");   // EventSource retries with Last-Event-ID
  es.addEventListener("block", (ev) => onBlock(JSON.parse(ev.data)));
}

// Search: a number is a block; 64 hex digits a transaction, else an account.
async function search(ev) {
  ev.preventDefault();
  const q = $("search-q").value.trim().toLowerCase();
  if (/^\d+$/.test(q)) { location.hash = `#/block/${q}`; return; }
  if (!/^[0-9a-f]{64}$/.test(q)) { showError(`Not a height, transaction hash or key: ${q}`); return; }
  const r = await fetch(`/txs/${q}`, { cache: "no-store", headers: authHeaders() });
  location.hash = r.ok ? `#/tx/${q}` : `#/account/${q}`;
}

async function main() {
  takeTokenFromUrl();
  showWho();
  $("signout").onclick = (ev) => { ev.preventDefault(); signOut(null); location.reload(); };
  $("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = $("login-token").value.trim().toLowerCase();
    if (!decodeToken(t)) { showLogin("That is not a read token (hex, as edgefed token make prints it)."); return; }
    sessionStorage.setItem(TOKEN_KEY, t);
    location.reload();
  });
  // links to API answers (metrics, PROV-JSON export): with a read token they are
  // fetched with it and shown from memory, since a plain link cannot send it
  document.addEventListener("click", async (ev) => {
    const a = ev.target.closest && ev.target.closest("a.authed");
    if (!a || !readToken()) return;
    ev.preventDefault();
    const r = await fetch(a.getAttribute("href"), { cache: "no-store", headers: authHeaders() });
    const blob = new Blob([await r.text()], { type: r.headers.get("Content-Type") || "text/plain" });
    window.open(URL.createObjectURL(blob), "_blank");
  });
  $("search").addEventListener("submit", search);
  $("prov-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = $("prov-q").value.trim();
    if (q) location.hash = `#/lineage/${q}`;
  });
  $("detail-close").onclick = (ev) => { ev.preventDefault(); history.pushState("", "", location.pathname); showDetail(); };
  window.addEventListener("hashchange", showDetail);
  window.addEventListener("resize", drawChart);
  await refreshStatus();
  if (!state.status) { setLive("off", "unavailable"); return; }
  try { await loadRecent(state.status.height); } catch (e) { showError(e.message); }
  loadMarket();
  loadSla();
  loadSlices();
  loadAnchors();
  if (readToken()) loadCommittee();   // a committee runs a private domain ledger: members only
  connect(state.status.height + 1);
  setInterval(scheduleStatus, 5000);   // round, peers and mempool change without blocks too
  showDetail();
}

main();
