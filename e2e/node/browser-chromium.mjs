// Debian's Chromium, driven by playwright-core, for the browser tests: a
// headless browser, and a page that records every console error (a CSP
// violation is one) and takes screenshots into e2e/out/.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const out = new URL('../out/', import.meta.url);

// launch starts Chromium ($CHROMIUM, or Debian's /usr/bin/chromium).
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

// openPage opens a page in a fresh context of browser, made with
// contextOptions (a viewport, say). errors collects its console errors and
// uncaught exceptions; shot(name) saves a screenshot as
// e2e/out/<prefix>-<name>.png; text() is the page's text.
export async function openPage(browser, prefix, contextOptions = {}) {
  mkdirSync(out, { recursive: true });
  const page = await (await browser.newContext(contextOptions)).newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  const shot = (name) => page.screenshot({ path: new URL(`${prefix}-${name}.png`, out).pathname, fullPage: true });
  const text = () => page.textContent('body');
  return { page, errors, shot, text };
}
