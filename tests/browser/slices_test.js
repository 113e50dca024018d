// slices_test.js: drives Debian's chromium (headless, through playwright-core)
// through the explorer's network-slice card (seed 000, issue 15):
//  - on a domain node: the published template with its id (the content hash of
//    its canonical bytes, as edgefed nslice template printed it) and name; the
//    slice instance with its lifecycle (readjusted), administrative (unlocked)
//    and operational (enabled) states and version; its detail's history;
//  - on the federation: the end-to-end slice, active, with both parts; its
//    detail lists each part's proofs as the e2e contract recorded them (domain
//    transaction hash, domain height, verified in a federation block), the
//    activation of part a anchored by a checkpoint and the re-adjustment trusted
//    by the committee's certificate.
// Run by tests/integration/browser_slices.sh (through slices_proof.sh) with:
//   EF_DOMAIN_URL, EF_FED_URL  the domain a and federation APIs
//   EF_TEMPLATE the template id; EF_SLICE the slice id, EF_SLICE_JSON its record
//   EF_ANCHORED the domain height anchored by a checkpoint
//   EF_TEST_OUT where the screenshots go; CHROMIUM the browser
"use strict";

const fs = require("fs");
const path = require("path");
const { withPage } = require("./ef_browser");

const out = process.env.EF_TEST_OUT || ".";
const tid = process.env.EF_TEMPLATE, sid = process.env.EF_SLICE;
const rec = JSON.parse(process.env.EF_SLICE_JSON);
const anchored = Number(process.env.EF_ANCHORED);
const STEP_MS = 30000;

function log(msg) { console.log(`browser: ${msg}`); }

async function main() {
  fs.mkdirSync(out, { recursive: true });
  await withPage({ width: 1400, height: 1500 }, async (page, errors, context) => {

    // the domain node: template and instance
    await page.goto(process.env.EF_DOMAIN_URL + "/", { waitUntil: "load", timeout: STEP_MS });
    await page.waitForSelector(`#ntemplates tr.template[data-id="${tid}"]`, { timeout: STEP_MS });
    const t = await page.$eval(`#ntemplates tr.template[data-id="${tid}"]`, (tr) => ({
      id: tr.querySelector("td").title, cells: [...tr.querySelectorAll("td")].map((td) => td.textContent.trim()) }));
    if (t.id !== tid || t.cells[1] !== "cam-uplink" || t.cells[2] !== "1000 \u2013 20000") throw new Error(`template row: ${JSON.stringify(t)}`);
    log(`domain: template ${t.cells[1]} listed with its content-hash id ${tid.slice(0, 16)}...`);
    const row = '#nslices tr.instance[data-id="p-doma"]';
    await page.waitForSelector(row, { timeout: STEP_MS });
    const i = await page.$eval(row, (tr) => ({
      ref: tr.children[1].textContent, template: tr.children[2].textContent, kbps: tr.children[3].textContent,
      version: tr.children[4].textContent, life: tr.querySelector(".lifecycle").textContent,
      admin: tr.querySelector(".admin").textContent, oper: tr.querySelector(".oper").textContent }));
    const want = { ref: "e2e-1", template: "cam-uplink", kbps: "6000", version: "2", life: "readjusted", admin: "unlocked", oper: "enabled" };
    if (JSON.stringify(i) !== JSON.stringify(want)) throw new Error(`instance row: ${JSON.stringify(i)}, want ${JSON.stringify(want)}`);
    log(`domain: instance p-doma ${i.life}, ${i.admin}, ${i.oper}, version ${i.version} at ${i.kbps} kbit/s`);
    await page.click(`${row} a`);
    await page.waitForSelector("#detail-body tr.step", { timeout: STEP_MS });
    const steps = await page.$$eval("#detail-body tr.step td:first-child", (tds) => tds.map((td) => td.textContent));
    for (const s of ["nslice_requested", "nslice_reserved", "nslice_activated", "nslice_change_requested", "nslice_readjusted"])
      if (!steps.includes(s)) throw new Error(`history lacks ${s}: ${steps}`);
    log(`domain: the instance's history: ${steps.slice().reverse().join(" -> ")}`);
    await page.locator("#slices").screenshot({ path: path.join(out, "slices-domain.png") });

    // the federation: the slice, its parts, each part's proofs
    await page.goto("about:blank");
    await page.goto(process.env.EF_FED_URL + "/", { waitUntil: "load", timeout: STEP_MS });
    const erow = `#e2eslices tr.e2e[data-id="${sid}"]`;
    await page.waitForSelector(erow, { timeout: STEP_MS });
    const e = await page.$eval(erow, (tr) => ({ state: tr.querySelector(".state").textContent,
      a: tr.querySelector(".part-a").textContent, b: tr.querySelector(".part-b").textContent }));
    if (e.state !== "active" || !e.a.includes("doma") || !e.a.includes("verified") || !e.a.includes("2 proofs") ||
        !e.b.includes("domb") || !e.b.includes("1 proof")) throw new Error(`slice row: ${JSON.stringify(e)}`);
    log(`federation: ${sid} ${e.state}; part a: ${e.a}; part b: ${e.b}`);
    await page.click(`${erow} a`);
    await page.waitForSelector("#proofs-a tr.proof", { timeout: STEP_MS });
    for (const part of ["a", "b"]) {
      const rows = await page.$$eval(`#proofs-${part} tr.proof`, (trs) => trs.map((tr) => ({
        tx: tr.dataset.tx, event: tr.children[0].textContent, height: Number(tr.querySelector(".height").textContent),
        by: tr.querySelector(".anchored").textContent, proof: tr.children[6].textContent })));
      const claims = rec[part].claims;
      if (rows.length !== claims.length) throw new Error(`part ${part}: ${rows.length} proofs shown, ${claims.length} recorded`);
      claims.forEach((c, k) => {
        const r = rows[k];
        if (r.tx !== c.tx_hash || r.event !== c.event || r.height !== c.height || !r.proof.includes("verified") ||
            !r.proof.includes(String(c.claimed_at)))
          throw new Error(`part ${part} proof ${k}: ${JSON.stringify(r)} for ${JSON.stringify(c)}`);
        const isAnchored = part === "a" && c.height === anchored;
        if (isAnchored !== r.by.startsWith("anchored: checkpoint"))
          throw new Error(`part ${part} proof at ${c.height}: "${r.by}" (anchored height ${anchored})`);
        if (!isAnchored && !r.by.startsWith("certified by the committee")) throw new Error(`trusted by: ${r.by}`);
      });
      log(`federation: part ${part}'s proofs: ${rows.map((r) => `${r.event} tx ${r.tx.slice(0, 8)} @${r.height} (${r.by.split(" (")[0]})`).join("; ")}`);
    }
    await page.locator("#detail").screenshot({ path: path.join(out, "slices-federation.png") });
    if (errors.length) throw new Error(errors.join("; "));
  });
}

main().then(() => log("all ok"), (e) => { console.error(`browser: FAIL: ${e.message}`); process.exit(1); });
