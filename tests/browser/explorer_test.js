// explorer_test.js: drives Debian's chromium (headless, through playwright-core)
// through a node's explorer page: the page loads, the height grows, a transaction
// submitted through the API appears in the list and opens in the detail view.
// Run by tests/integration/browser.sh with:
//   EF_API_URL   the node's API, e.g. http://127.0.0.1:8600
//   EF_TX_HEXES  signed transactions (hex), comma-separated, submitted in order
//   EF_TEST_OUT  where the screenshots go
//   CHROMIUM     the browser binary (default /usr/bin/chromium)
"use strict";

const fs = require("fs");
const path = require("path");
const { withPage } = require("./ef_browser");

const url = process.env.EF_API_URL;
const txs = (process.env.EF_TX_HEXES || "").split(",").filter(Boolean);
const out = process.env.EF_TEST_OUT || ".";
const STEP_MS = 30000;

function log(msg) { console.log(`browser: ${msg}`); }

async function heightOf(page) {
  const t = await page.textContent("#stat-height");
  return /^\d+$/.test(t.trim()) ? Number(t.trim()) : -1;
}

async function main() {
  if (!url || txs.length < 2) throw new Error("EF_API_URL and two EF_TX_HEXES are required");
  fs.mkdirSync(out, { recursive: true });
  await withPage({ width: 1360, height: 1000 }, async (page, errors, context) => {

    await page.goto(url + "/", { waitUntil: "load", timeout: STEP_MS });
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector("#stat-height").textContent.trim()),
                               null, { timeout: STEP_MS });
    await page.waitForSelector("#live.on", { timeout: STEP_MS });
    const chain = (await page.textContent("#chain-id")).trim();
    const h0 = await heightOf(page);
    const vrows = await page.locator("#validators tbody tr").count();
    log(`explorer loaded: chain ${chain}, height ${h0}, ${vrows} validators, event stream live`);
    if (vrows < 1) throw new Error("no validators listed");

    // Submit the transactions through the API from the page itself.
    const hashes = [];
    for (const hex of txs) {
      const r = await page.evaluate(async (body) => {
        const resp = await fetch("/txs?wait=commit", { method: "POST", headers: { "Content-Type": "application/json" }, body });
        return { status: resp.status, json: await resp.json() };
      }, JSON.stringify({ tx: hex }));
      if (r.status !== 200 || r.json.code !== "OK") throw new Error(`POST /txs: ${r.status} ${JSON.stringify(r.json)}`);
      hashes.push(r.json.hash);
      log(`submitted ${r.json.hash.slice(0, 16)}… committed at height ${r.json.height}`);
    }

    // The height grows on the page (through the event stream, no reload).
    await page.waitForFunction((h) => Number(document.querySelector("#stat-height").textContent) > h, h0,
                               { timeout: STEP_MS });
    const h1 = await heightOf(page);
    log(`height grew on the page: ${h0} -> ${h1}`);

    // Both transactions appear in "Latest transactions".
    for (const h of hashes) {
      await page.waitForSelector(`#txs tr[data-hash="${h}"]`, { timeout: STEP_MS });
    }
    log("the submitted transactions appear in the list");
    const total = Number((await page.textContent("#stat-txs")).trim());
    if (!(total >= hashes.length)) throw new Error(`total transactions shown: ${total}`);
    const hint = await page.textContent("#chart-hint");
    if (!/transactions per/.test(hint)) throw new Error(`chart not drawn: '${hint}'`);
    const blockRows = await page.locator("#blocks tbody tr").count();
    if (blockRows < 2) throw new Error("latest blocks list is empty");
    await page.screenshot({ path: path.join(out, "explorer.png"), fullPage: true });

    // Click the last transaction: its detail opens with the contract call and result.
    await page.click(`#txs tr[data-hash="${hashes[hashes.length - 1]}"] td:nth-child(2)`);
    await page.waitForFunction((h) => !document.querySelector("#detail").hidden &&
                                      document.querySelector("#detail-body").textContent.includes(h),
                               hashes[hashes.length - 1], { timeout: STEP_MS });
    const detail = await page.textContent("#detail-body");
    if (!/OK/.test(detail) || !/bank\.transfer/.test(detail)) throw new Error(`tx detail lacks result/call: ${detail.slice(0, 200)}`);
    log("transaction detail opens on click");
    await page.screenshot({ path: path.join(out, "explorer-tx.png"), fullPage: true });

    // The sender's account, from the detail's link.
    await page.click("#detail-body a[href^='#/account/']");
    await page.waitForFunction(() => /^Account /.test(document.querySelector("#detail-title").textContent) &&
                                     /balance/.test(document.querySelector("#detail-body").textContent),
                               null, { timeout: STEP_MS });
    log("account view opens from the sender link");

    // Search by transaction hash.
    await page.fill("#search-q", hashes[0]);
    await page.press("#search-q", "Enter");
    await page.waitForFunction((h) => document.querySelector("#detail-body").textContent.includes(h) &&
                                      /^Transaction /.test(document.querySelector("#detail-title").textContent),
                               hashes[0], { timeout: STEP_MS });
    log("search finds a transaction by hash");

    // And a block's detail from the blocks list.
    await page.click("#blocks tbody tr:first-child td:nth-child(2)");
    await page.waitForFunction(() => /^Block \d+$/.test(document.querySelector("#detail-title").textContent),
                               null, { timeout: STEP_MS });
    log(`block detail opens on click: ${await page.textContent("#detail-title")}`);
    await page.screenshot({ path: path.join(out, "explorer-block.png"), fullPage: false });

    if (errors.length) throw new Error("errors in the page:\n  " + errors.join("\n  "));
    log(`ok; screenshots in ${out}`);
  });
}

main().then(() => process.exit(0), (e) => { console.error(`browser: FAIL: ${e.stack || e}`); process.exit(1); });
