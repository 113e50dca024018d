// market_test.js: drives Debian's chromium (headless, through playwright-core)
// through the explorer's edge-market section on a ledger where `edgefed demo
// market --keep` ran: the SVG map shows every EN coloured by its company and a
// line per match, the match list carries the audit fields, and the open channel
// shows its deposit and redeemed amount; a new match made while the page is open
// appears without a reload.
// Run by tests/integration/browser_market.sh with:
//   EF_API_URL     the node's API
//   EF_ENS, EF_COMPANIES, EF_MATCHES   what the map must show
//   EF_CHANNEL     "ID:DEPOSIT:REDEEMED" of the open channel
//   EF_MATCH_CMD   a shell command that makes one more match
//   EF_TEST_OUT    where the screenshot goes; CHROMIUM the browser
"use strict";

const fs = require("fs");
const path = require("path");
const { execSync } = require("child_process");
const { withPage } = require("./ef_browser");

const url = process.env.EF_API_URL;
const out = process.env.EF_TEST_OUT || ".";
const want = { ens: +process.env.EF_ENS, companies: +process.env.EF_COMPANIES, matches: +process.env.EF_MATCHES };
const [chId, chDeposit, chRedeemed] = (process.env.EF_CHANNEL || "").split(":");
const STEP_MS = 30000;

function log(msg) { console.log(`browser: ${msg}`); }

async function main() {
  fs.mkdirSync(out, { recursive: true });
  await withPage({ width: 1360, height: 1400 }, async (page, errors, context) => {
    await page.goto(url + "/", { waitUntil: "load", timeout: STEP_MS });
    await page.waitForFunction((n) => document.querySelectorAll("#market-map circle.en").length === n, want.ens,
                               { timeout: STEP_MS });
    const colours = await page.$$eval("#market-map circle.en", (cs) => [...new Set(cs.map((c) => c.getAttribute("fill")))]);
    const companies = await page.$$eval("#market-map circle.en", (cs) => [...new Set(cs.map((c) => c.dataset.company))]);
    if (companies.length !== want.companies || colours.length !== want.companies)
      throw new Error(`map: ${companies.length} companies in ${colours.length} colours, want ${want.companies}`);
    await page.waitForFunction((n) => document.querySelectorAll("#market-map line.link").length === n, want.matches,
                               { timeout: STEP_MS });
    const rows = await page.locator("#matches tbody tr.match").count();
    if (rows !== want.matches) throw new Error(`match list: ${rows} rows, want ${want.matches}`);
    const first = await page.$$eval("#matches tbody tr.match:last-child td", (tds) => tds.map((t) => t.textContent.trim()));
    if (first[0] !== "1" || !/^\d+$/.test(first[3]) || !/^\d+$/.test(first[5]))
      throw new Error(`match 1 row lacks its audit fields: ${first.join(" | ")}`);
    log(`map: ${want.ens} ENs in ${colours.length} company colours, ${want.matches} match lines; match list has dist2, eligible, scanned`);
    const ch = await page.$$eval("#channels tbody tr.channel", (trs) => trs.map((tr) =>
      [...tr.querySelectorAll("td")].map((t) => t.textContent.trim())));
    const row = ch.find((r) => r[0] === chId);
    if (!row || row[3] !== chDeposit || row[4] !== chRedeemed)
      throw new Error(`open channel ${chId}: ${JSON.stringify(ch)}, want deposit ${chDeposit} redeemed ${chRedeemed}`);
    log(`open channel ${chId}: deposit ${chDeposit}, redeemed ${chRedeemed}`);
    execSync(process.env.EF_MATCH_CMD, { stdio: "ignore" });
    await page.waitForFunction((n) => document.querySelectorAll("#market-map line.link").length === n, want.matches + 1,
                               { timeout: STEP_MS });
    log("a new match appeared on the map without a reload");
    await page.locator("#market").screenshot({ path: path.join(out, "market.png") });
    if (errors.length) throw new Error(errors.join("; "));
  });
}

main().then(() => log("all ok"), (e) => { console.error(`browser: FAIL: ${e.message}`); process.exit(1); });
