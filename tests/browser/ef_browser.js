// ef_browser.js: what every explorer test shares: Debian's chromium, headless,
// through playwright-core, in a throw-away profile; the page's errors and
// console errors collected (a test fails on any).
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

// Runs body(page, errors, context) on a fresh page of viewport {width, height};
// quiet (optional) says which console errors are expected. Closes the browser
// and removes its profile whatever happens.
async function withPage(viewport, body, quiet) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ef-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, viewport,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps"],
  });
  const errors = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && !(quiet && quiet(m.text()))) errors.push(`console: ${m.text()}`);
    });
    return await body(page, errors, context);
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

module.exports = { withPage };
