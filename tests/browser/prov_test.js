// prov_test.js: drives Debian's chromium (headless, through playwright-core)
// through the explorer's provenance lineage (seed 004): the lineage of a datum is
// drawn as SVG with one PROV shape per element and one arrow per relation (the
// counts the API gives), its steps link to their blocks and transactions, a click
// on a node re-roots the lineage there. Run by tests/integration/prov_browser.sh with:
//   EF_API_URL   the node's API;  EF_ROOT  the element (e.g. data:result-1)
//   EF_TEST_OUT  where the screenshots go;  CHROMIUM  the browser binary
"use strict";

const fs = require("fs");
const path = require("path");
const { withPage } = require("./ef_browser");

const url = process.env.EF_API_URL;
const root = process.env.EF_ROOT || "data:result-1";
const out = process.env.EF_TEST_OUT || ".";
const STEP_MS = 30000;

function log(msg) { console.log(`prov-browser: ${msg}`); }

async function counts(page) {
  return page.evaluate(() => ({
    entity: document.querySelectorAll("#prov-svg ellipse.entity").length,
    activity: document.querySelectorAll("#prov-svg rect.activity").length,
    agent: document.querySelectorAll("#prov-svg polygon.agent").length,
    rel: document.querySelectorAll("#prov-svg path.rel").length,
    rows: document.querySelectorAll("#prov-steps tbody tr").length,
    root: (document.querySelector("#prov-svg g.root") || { dataset: {} }).dataset.id,
  }));
}

async function check(page, qname) {
  const lin = await page.evaluate(async (q) => (await fetch(`/state/prov/lineage/${encodeURI(q)}`)).json(), qname);
  await page.waitForFunction((q) => {
    const r = document.querySelector("#prov-svg g.root");
    return r && r.dataset.id === q;
  }, qname, { timeout: STEP_MS });
  const c = await counts(page);
  const want = { entity: 0, activity: 0, agent: 0 };
  for (const n of lin.nodes) want[n.kind]++;
  if (c.entity !== want.entity || c.activity !== want.activity || c.agent !== want.agent)
    throw new Error(`${qname}: shapes ${JSON.stringify(c)}, lineage ${JSON.stringify(want)}`);
  if (c.rel !== lin.steps.length || c.rows !== lin.steps.length)
    throw new Error(`${qname}: ${c.rel} arrows / ${c.rows} rows, lineage has ${lin.steps.length} steps`);
  log(`${qname}: ${want.entity} entities, ${want.activity} activities, ${want.agent} agents, ${c.rel} relations drawn`);
  return lin;
}

async function main() {
  if (!url) throw new Error("EF_API_URL is required");
  fs.mkdirSync(out, { recursive: true });
  await withPage({ width: 1500, height: 1100 }, async (page, errors, context) => {
    await page.goto(url + "/", { waitUntil: "load", timeout: STEP_MS });
    await page.waitForSelector("#live.on", { timeout: STEP_MS });

    // typed into the form
    await page.fill("#prov-q", root);
    await page.press("#prov-q", "Enter");
    const lin = await check(page, root);
    await page.locator("#prov-card").screenshot({ path: path.join(out, "prov-lineage.png") });

    // a step's block link opens that block
    const h = lin.steps[0].height;
    await page.click(`#prov-steps tbody tr:first-child a[href="#/block/${h}"]`);
    await page.waitForFunction((hh) => document.querySelector("#detail-title").textContent === `Block ${hh}`, h,
                               { timeout: STEP_MS });
    log(`step link opens block ${h}`);

    // a click on the generating activity re-roots the lineage there
    const gen = lin.steps.find((s) => s.kind === "wasGeneratedBy" && s.from === root);
    if (!gen) throw new Error("no wasGeneratedBy step from the root");
    await page.goto(url + `/#/lineage/${root}`, { waitUntil: "load", timeout: STEP_MS });
    await check(page, root);
    await page.click(`#prov-svg g.node[data-id="${gen.to}"]`);
    await check(page, gen.to);

    // an unknown element: a message, no picture
    await page.fill("#prov-q", "data:no-such-thing");
    await page.press("#prov-q", "Enter");
    await page.waitForFunction(() => /no such element/.test(document.querySelector("#prov-graph").textContent),
                               null, { timeout: STEP_MS });
    log("an unknown element is reported");
    const real = errors.filter((e) => !/404/.test(e));   // the 404 of the unknown element is expected
    if (real.length) throw new Error("errors in the page:\n  " + real.join("\n  "));
    log(`ok; screenshot in ${out}/prov-lineage.png`);
  });
}

main().then(() => process.exit(0), (e) => { console.error(`prov-browser: FAIL: ${e.stack || e}`); process.exit(1); });
