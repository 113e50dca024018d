// anchor_test.js: drives Debian's chromium (headless, through playwright-core)
// through the explorer's anchored-domains card on a federation ledger: the
// domain is listed with its anchored height, committee and state; its detail
// lists the checkpoints; a checkpoint submitted while the page is open raises
// the anchored height without a reload.
// Run by tests/integration/browser_anchor.sh (through hierarchy_proof.sh) with:
//   EF_API_URL        the federation node's API
//   EF_DOMAIN         the domain's name; EF_HEIGHT its anchored height now
//   EF_CKPT_CMD       a shell command that anchors EF_HEIGHT2
//   EF_TEST_OUT       where the screenshot goes; CHROMIUM the browser
"use strict";

const fs = require("fs");
const path = require("path");
const { execSync } = require("child_process");
const { withPage } = require("./ef_browser");

const url = process.env.EF_API_URL;
const out = process.env.EF_TEST_OUT || ".";
const dom = process.env.EF_DOMAIN;
const h1 = process.env.EF_HEIGHT, h2 = process.env.EF_HEIGHT2;
const STEP_MS = 30000;

function log(msg) { console.log(`browser: ${msg}`); }

async function main() {
  fs.mkdirSync(out, { recursive: true });
  await withPage({ width: 1360, height: 1400 }, async (page, errors, context) => {
    await page.goto(url + "/", { waitUntil: "load", timeout: STEP_MS });
    const row = `#anchors tr.domain[data-domain="${dom}"]`;
    await page.waitForSelector(row, { timeout: STEP_MS });
    if (await page.$eval("#anchor", (s) => s.hidden)) throw new Error("the anchored-domains card is hidden");
    const r = await page.$eval(row, (tr) => ({ height: tr.querySelector("td.height").textContent.trim(),
                                                state: tr.querySelector(".pill").textContent.trim() }));
    if (r.height !== h1 || r.state !== "tracking") throw new Error(`row: ${JSON.stringify(r)}, want height ${h1}, tracking`);
    log(`domain ${dom} listed at anchored height ${r.height}, ${r.state}`);
    await page.click(`${row} a`);
    await page.waitForFunction((d) => document.querySelector("#detail-title").textContent === `Domain ${d}`, dom,
                                { timeout: STEP_MS });
    await page.waitForSelector("#detail-body tr.checkpoint", { timeout: STEP_MS });
    const heights = await page.$$eval("#detail-body tr.checkpoint td:first-child", (tds) => tds.map((t) => t.textContent));
    if (!heights.includes(h1) || !heights.includes("0")) throw new Error(`checkpoints shown: ${heights}`);
    log(`detail lists checkpoints ${heights.join(", ")}`);
    execSync(process.env.EF_CKPT_CMD, { stdio: "ignore" });
    await page.waitForFunction(([s, h]) => {
      const td = document.querySelector(`${s} td.height`);
      return td && td.textContent.trim() === h;
    }, [row, h2], { timeout: STEP_MS });
    log(`a checkpoint made while the page was open raised the height to ${h2} without a reload`);
    await page.locator("#anchor").screenshot({ path: path.join(out, "anchor.png") });
    if (errors.length) throw new Error(errors.join("; "));
  });
}

main().then(() => log("all ok"), (e) => { console.error(`browser: FAIL: ${e.message}`); process.exit(1); });
