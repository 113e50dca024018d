// sla_test.js: drives Debian's chromium (headless, through playwright-core)
// through the explorer's SLA section: every SLA is listed with its state and
// one square per epoch coloured by its status (receipted, breached, disputed,
// open), paid and refunded amounts; a claim made while the page is open turns
// an open epoch into a receipted one without a reload.
// Run by tests/integration/browser_sla.sh with:
//   EF_API_URL     the node's API
//   EF_SLA_WANT    JSON {"SLA id": {"state": S, "epochs": [status...], "paid": N}}
//   EF_SLA_LIVE    "SLA:EPOCH" the epoch EF_CLAIM_CMD receipts
//   EF_CLAIM_CMD   a shell command that claims it
//   EF_TOPO_WANT   JSON {"links": N, "reserved": {LINK: "r/c"}, "free": {LINK: "0/c"}}: the
//                  operator's topology SVG has N links, those of "reserved" drawn as
//                  reserved with that label, those of "free" not
//   EF_TEST_OUT    where the screenshot goes; CHROMIUM the browser
"use strict";

const fs = require("fs");
const path = require("path");
const { execSync } = require("child_process");
const { withPage } = require("./ef_browser");

const url = process.env.EF_API_URL;
const out = process.env.EF_TEST_OUT || ".";
const want = JSON.parse(process.env.EF_SLA_WANT || "{}");
const [liveSla, liveEpoch] = (process.env.EF_SLA_LIVE || "").split(":");
const topoWant = JSON.parse(process.env.EF_TOPO_WANT || "null");
const STEP_MS = 30000;

function log(msg) { console.log(`browser: ${msg}`); }

async function rowOf(page, id) {
  return page.$eval(`#slas tr.sla[data-sla="${id}"]`, (tr) => ({
    state: tr.querySelector(".pill").textContent.trim(),
    epochs: [...tr.querySelectorAll(".ep")].map((e) => e.dataset.status),
    colours: [...tr.querySelectorAll(".ep")].map((e) => getComputedStyle(e).backgroundColor),
    paid: tr.querySelector("td.paid").textContent.trim(),
  }));
}

// The SVG tree: every link drawn, labelled reserved/capacity, reserved ones highlighted.
async function checkTopology(page) {
  await page.waitForFunction((k) => document.querySelectorAll("#sla-topo svg.topo g.topo-link").length === k,
                             topoWant.links, { timeout: STEP_MS });
  const links = await page.$$eval("#sla-topo svg.topo g.topo-link", (gs) => gs.map((g) => ({
    name: g.dataset.link, label: g.querySelector("text").textContent.trim(), reserved: g.classList.contains("reserved"),
    stroke: getComputedStyle(g.querySelector("line")).stroke, width: g.querySelector("line").getBoundingClientRect(),
  })));
  const by = new Map(links.map((l) => [l.name, l]));
  const check = (want, reserved) => {
    for (const [name, label] of Object.entries(want)) {
      const l = by.get(name);
      if (!l || l.label !== label || l.reserved !== reserved)
        throw new Error(`topology link ${name}: ${JSON.stringify(l)}, want ${label}${reserved ? " reserved" : ""}`);
    }
  };
  check(topoWant.reserved, true);
  check(topoWant.free, false);
  const strokeOf = (r) => links.find((l) => l.reserved === r).stroke;
  if (strokeOf(true) === strokeOf(false)) throw new Error(`reserved and free links share the colour ${strokeOf(true)}`);
  const nodes = await page.$$eval("#sla-topo svg.topo g.topo-node", (gs) => gs.map((g) => g.dataset.node));
  if (nodes.length !== topoWant.links + 1) throw new Error(`topology nodes: ${nodes.join(",")}`);
  // layers top to bottom: every child below its parent
  const ys = await page.$$eval("#sla-topo svg.topo g.topo-link line", (ls) => ls.map((l) => [+l.getAttribute("y1"), +l.getAttribute("y2")]));
  if (ys.some(([a, b]) => !(b > a))) throw new Error(`a link does not go downwards: ${JSON.stringify(ys)}`);
  await page.locator("#sla-topo").screenshot({ path: path.join(out, "sla-topology.png") });
  log(`topology: ${links.length} links, reserved ${Object.entries(topoWant.reserved).map(([k, v]) => `${k} ${v}`).join(", ")}`);
}

async function main() {
  fs.mkdirSync(out, { recursive: true });
  await withPage({ width: 1360, height: 1400 }, async (page, errors, context) => {
    await page.goto(url + "/", { waitUntil: "load", timeout: STEP_MS });
    const n = Object.keys(want).length;
    await page.waitForFunction((k) => document.querySelectorAll("#slas tr.sla").length === k, n, { timeout: STEP_MS });
    for (const [id, w] of Object.entries(want)) {
      const r = await rowOf(page, id);
      if (r.state !== w.state || JSON.stringify(r.epochs) !== JSON.stringify(w.epochs) || r.paid !== String(w.paid))
        throw new Error(`SLA ${id}: ${JSON.stringify(r)}, want ${JSON.stringify(w)}`);
      // a receipted, a breached and a disputed epoch must not look alike
      const byStatus = new Map();
      r.epochs.forEach((s, i) => byStatus.set(s, r.colours[i]));
      if (new Set(byStatus.values()).size !== byStatus.size)
        throw new Error(`SLA ${id}: statuses share a colour: ${JSON.stringify([...byStatus])}`);
      log(`SLA ${id}: ${r.state}, epochs ${r.epochs.join(",")}, paid ${r.paid}`);
    }
    if (topoWant) await checkTopology(page);
    execSync(process.env.EF_CLAIM_CMD, { stdio: "ignore" });
    await page.waitForFunction(([s, e]) => {
      const ep = document.querySelector(`#slas tr.sla[data-sla="${s}"] .ep[data-epoch="${e}"]`);
      return ep && ep.dataset.status === "paid";
    }, [liveSla, liveEpoch], { timeout: STEP_MS });
    log(`SLA ${liveSla} epoch ${liveEpoch} turned receipted without a reload`);
    await page.locator("#sla").screenshot({ path: path.join(out, "sla.png") });
    if (errors.length) throw new Error(errors.join("; "));
  });
}

main().then(() => log("all ok"), (e) => { console.error(`browser: FAIL: ${e.message}`); process.exit(1); });
