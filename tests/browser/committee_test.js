// committee_test.js: drives Debian's chromium (headless, through playwright-core)
// through the explorer of a private domain ledger: without a token the page
// asks for one; an expired, a forged and a non-member's token are refused with
// the node's reason; signed in with a member's token (in the URL fragment, which
// the page drops from the address bar) it shows the committee epochs with their
// heights, committees and randomness, the current epoch highlighted as the node
// reports it, and moves the highlight to the next epoch live, without a reload.
// Run by tests/integration/browser_committee.sh (through committee_token.sh) with:
//   EF_API_URL          the domain node's API
//   EF_TOKEN            a member's read token; EF_TOKEN_EXPIRED, EF_TOKEN_FORGED,
//                       EF_TOKEN_OUTSIDER refused ones
//   EF_ADMIN_KEY, EDGEFED  to read the current epoch with a signed request
//   EF_TEST_OUT         where the screenshot goes; CHROMIUM the browser
"use strict";

const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { withPage } = require("./ef_browser");

const url = process.env.EF_API_URL;
const out = process.env.EF_TEST_OUT || ".";
const STEP_MS = 30000;

function log(msg) { console.log(`browser: ${msg}`); }

// The node's current epoch, read with a request signed by the admin's key.
function currentEpoch() {
  const o = execFileSync(process.env.EDGEFED, ["query", "/state/committee/current", "--api", url,
                                               "--key", process.env.EF_ADMIN_KEY]);
  return JSON.parse(o.toString());
}

async function refused(page, token, want) {
  await page.goto("about:blank");
  await page.goto(`${url}/#token=${token}`, { waitUntil: "load", timeout: STEP_MS });
  await page.waitForSelector("#login-error:not([hidden])", { timeout: STEP_MS });
  const text = await page.$eval("#login-error", (e) => e.textContent);
  if (!text.includes(want)) throw new Error(`refusal says "${text}", want "${want}"`);
  if (!(await page.$eval("#committee", (s) => s.hidden))) throw new Error("committee shown to a refused token");
  if (await page.evaluate(() => sessionStorage.getItem("edgefed.read_token")))
    throw new Error("a refused token was kept");
  log(`refused: ${text}`);
}

async function main() {
  fs.mkdirSync(out, { recursive: true });
  await withPage({ width: 1360, height: 1400 }, async (page, errors, context) => {
    // the refused reads are 403s the browser logs as failed resources; other console errors count

    await page.goto(url + "/", { waitUntil: "load", timeout: STEP_MS });
    await page.waitForSelector("#login:not([hidden])", { timeout: STEP_MS });
    const cmd = await page.$eval("#login-cmd", (e) => e.textContent);
    if (!cmd.includes("edgefed token make") || !cmd.includes(url)) throw new Error(`login command: ${cmd}`);
    log(`without a token the page asks for one: ${cmd}`);
    await refused(page, process.env.EF_TOKEN_EXPIRED, "expired");
    await refused(page, process.env.EF_TOKEN_FORGED, "signature does not verify");
    await refused(page, process.env.EF_TOKEN_OUTSIDER, "not a member");

    // signed in through the fragment; the token leaves the address bar
    await page.goto("about:blank");
    await page.goto(`${url}/#token=${process.env.EF_TOKEN}`, { waitUntil: "load", timeout: STEP_MS });
    await page.waitForSelector("#committee:not([hidden]) #epochs tr.current", { timeout: STEP_MS });
    if (page.url().includes("token")) throw new Error(`the token stayed in the URL: ${page.url()}`);
    if (!(await page.$eval("#login", (s) => s.hidden))) throw new Error("login still shown after sign-in");
    const who = await page.$eval("#who-text", (e) => e.textContent);
    if (!who.startsWith("member ")) throw new Error(`member chip: ${who}`);
    let cur = currentEpoch();
    await page.waitForFunction((e) => {
      const tr = document.querySelector("#epochs tr.current");
      return tr && Number(tr.dataset.epoch) >= e;
    }, cur.epoch, { timeout: STEP_MS });
    const rows = await page.$$eval("#epochs tr.epoch", (trs) => trs.map((tr) => ({
      epoch: Number(tr.dataset.epoch), current: tr.classList.contains("current"),
      heights: tr.querySelector("td.heights").textContent, keys: tr.querySelectorAll("td.keys")[0].querySelectorAll("a").length,
      cells: [...tr.querySelectorAll("td")].map((td) => td.textContent.trim()),
    })));
    const current = rows.filter((r) => r.current);
    if (current.length !== 1 || current[0] !== rows[0]) throw new Error(`current rows: ${JSON.stringify(rows)}`);
    if (current[0].keys !== 4) throw new Error(`current committee shows ${current[0].keys} keys`);
    const past = rows.filter((r) => !r.current);
    if (past.length < 2) throw new Error(`finished epochs shown: ${past.length}`);
    for (const r of past) {
      const m = r.heights.match(/^(\d+) \u2013 (\d+)$/);
      if (!m || Number(m[2]) < Number(m[1]) || r.keys !== 4 || !/[0-9a-f]{12}/.test(r.cells[6]))
        throw new Error(`epoch row: ${JSON.stringify(r)}`);
    }
    // heights are contiguous: each epoch ends where the next (newer) one starts
    for (let i = 1; i < rows.length; i++) {
      const start = Number(rows[i - 1].heights.split(" ")[0]), end = Number(rows[i].heights.split(" \u2013 ")[1]);
      if (end !== start - 1) throw new Error(`epoch ${rows[i].epoch} ends at ${end}, epoch ${rows[i - 1].epoch} starts at ${start}`);
    }
    const shownNow = Number(await page.$eval("#epoch-current", (e) => e.textContent));
    log(`signed in: current epoch ${shownNow} highlighted, ${past.length} finished epochs with heights, committees and seeds`);

    // the next rotation arrives live
    cur = currentEpoch();
    await page.waitForFunction((e) => {
      const tr = document.querySelector("#epochs tr.current");
      return tr && Number(tr.dataset.epoch) > e;
    }, cur.epoch, { timeout: 90000 });
    const after = await page.$eval("#epochs tr.current", (tr) => Number(tr.dataset.epoch));
    const again = currentEpoch();
    if (after > again.epoch) throw new Error(`page shows epoch ${after}, node ${again.epoch}`);
    log(`the highlight moved to epoch ${after} without a reload`);
    // a plain link cannot send the token: the page fetches the metrics with it
    const [popup] = await Promise.all([context.waitForEvent("page", { timeout: STEP_MS }), page.click('footer a.authed')]);
    await popup.waitForLoadState("load", { timeout: STEP_MS });
    const metrics = await popup.textContent("body");
    if (!/edgefed_height/.test(metrics)) throw new Error(`metrics through the token: ${metrics.slice(0, 200)}`);
    await popup.close();
    log("the metrics link, fetched with the token, shows the node's metrics");
    await page.locator("#committee").screenshot({ path: path.join(out, "committee.png") });
    if (errors.length) throw new Error(errors.join("; "));
  }, (t) => /status of 403/.test(t));
}

main().then(() => log("all ok"), (e) => { console.error(`browser: FAIL: ${e.message}`); process.exit(1); });
