// Sesame's pages on a phone: Debian's Chromium (driven by playwright-core)
// at 360 px wide walks every page a person sees against `sesame serve`
// with a third-party app: the landing page, sign-in, a wrong password,
// consent, the sign-out confirm page and its Cancel link back to the app
// (still signed in afterwards), the account page (its confirmations
// opened too), an error page, the 404 page, the front-channel page that
// ends a sign-out of Shop (it has a front-channel logout page) and the
// signed-out page. On
// each, axe-core checks labels, heading order, contrast and the rest of
// WCAG 2.1 A and AA plus axe's best practices, and the page must not
// scroll sideways. Screenshots land in e2e/out/. Run by e2e/browser_test.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import axe from 'axe-core';
import { launch, openPage } from './browser-chromium.mjs';
import { env } from './env.mjs';

const sesame = env('SESAME_URL'); // http://127.0.0.1:PORT
const issuer = `${sesame}/oidc`;
const appPort = Number(env('APP_PORT'));
const app = `http://127.0.0.1:${appPort}`;
const clientId = env('CLIENT_ID');
const password = env('SESAME_PASSWORD');
const width = 360;

// The third-party app: its callback, its home page, where a sign-out (or
// its Cancel) returns, and its front-channel logout page, which holds its
// answer until frameAnswered is called: the front-channel page's script
// goes on as soon as its frame has loaded, and axe must check it first.
let frameAnswered;
const frameAsked = new Promise((resolve) => { frameAnswered = resolve; });
const appServer = createServer((req, res) => {
  const path = new URL(req.url, app).pathname;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  if (path === '/frontchannel-logout') {
    frameAnswered(() => res.end('<!doctype html><html lang="en"><title>Shop</title><p>Signed out</p></html>'));
    return;
  }
  if (path === '/callback') res.end('<!doctype html><title>Shop</title><p>Callback reached</p>');
  else if (path === '/') res.end('<!doctype html><title>Shop</title><p>Shop home</p>');
  else if (path === '/favicon.ico') { res.statusCode = 204; res.end(); }
  else { res.statusCode = 404; res.end('not found'); }
});

const verifier = 'an-accessibility-test-verifier-that-is-long-enough-0123456789';
const challenge = createHash('sha256').update(verifier).digest('base64url');

// The axe-core rules run on every page: WCAG 2.0 and 2.1, A and AA (labels,
// contrast, names...), and axe's best practices (one h1, heading order,
// landmarks...).
const axeOptions = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } };

// audit runs axe-core in the page, with options added to axeOptions, and
// checks it fits the viewport's width; it returns the problems found, in
// words, and saves a screenshot.
async function audit(page, shot, name, options = {}) {
  // evaluate, not a script tag: the pages' CSP allows no inline script
  // but their own, and evaluate runs outside it.
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axe.source);
  const result = await page.evaluate((o) => window.axe.run(document, o), { ...axeOptions, ...options });
  const problems = result.violations.map((v) =>
    `${name}: ${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary.replaceAll('\n', ' ')}`).join('\n')}`);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  if (scrollWidth > width) problems.push(`${name}: the page is ${scrollWidth} px wide, wider than the ${width} px screen`);
  await shot(name);
  return problems;
}

test(`pages at ${width} px pass axe-core ${axe.version} and do not scroll sideways`, async () => {
  await new Promise((resolve) => appServer.listen(appPort, resolve));
  const browser = await launch();
  const problems = [];
  const pagesChecked = [];
  try {
    const { page, errors, shot, text } = await openPage(browser, 'a11y', { viewport: { width, height: 780 } });
    const check = async (name, options) => {
      problems.push(...(await audit(page, shot, name, options)));
      pagesChecked.push(name);
    };

    let res = await page.goto(`${sesame}/`);
    assert.equal(res.status(), 200);
    assert.match(await text(), /OpenID Connect provider/);
    assert.match(await text(), /not signed in/);
    await check('1-landing');

    const auth = new URL(`${issuer}/auth`);
    for (const [k, v] of Object.entries({
      client_id: clientId, redirect_uri: `${app}/callback`, response_type: 'code', scope: 'openid profile email offline_access',
      prompt: 'consent', state: 'st4te', nonce: 'n0nce', code_challenge: challenge, code_challenge_method: 'S256',
    })) auth.searchParams.set(k, v);
    await page.goto(auth.href);
    assert.match(await text(), /Sign in to continue to Shop/);
    await check('2-sign-in');

    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'not the password');
    [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(res.status(), 401);
    assert.match(await text(), /Wrong username or password/);
    await check('3-wrong-password');

    await page.fill('input[name=password]', password);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.match(await text(), /Shop wants to access your account/);
    await check('4-consent');
    await Promise.all([page.waitForURL(`${app}/callback?**`), page.click('button[value=allow]')]);

    // The confirm page, and its Cancel followed back to the app.
    await page.goto(`${issuer}/session/end?client_id=${clientId}&post_logout_redirect_uri=${encodeURIComponent(`${app}/`)}&state=c4ncel`);
    assert.match(await text(), /Shop asked Sesame to sign you out/);
    assert.match(await text(), /Shop only: signs you out of Shop alone\. You stay signed in to Sesame in this browser, and to your other apps\./);
    await check('5-confirm');
    await Promise.all([page.waitForURL(`${app}/?state=c4ncel`), page.click('a:text-is("Cancel")')]);
    assert.match(await text(), /Shop home/);

    res = await page.goto(`${sesame}/account`);
    const account = await text();
    assert.match(account, /Your account: alice/, 'Cancel signed the browser out');
    assert.match(account, /Chrome on Linux\s*This device/);
    assert.match(account, /Shop\s*Can: sign you in; your name and profile; your email address; stay connected when you are away/);
    await check('6-account');
    await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
    await check('7-account-confirmations-open');

    await page.goto(`${sesame}/`);
    assert.match(await text(), /You are signed in as alice/);
    await check('8-landing-signed-in');

    res = await page.goto(`${issuer}/auth?client_id=nobody&response_type=code&scope=openid`);
    assert.equal(res.status(), 400);
    assert.match(await text(), /not known to Sesame/);
    assert.doesNotMatch(await text(), /Bad Request/);
    await check('9-error-unknown-client');

    res = await page.goto(`${sesame}/no-such-page`);
    assert.equal(res.status(), 404);
    await check('10-not-found');

    // Sign out of Shop only: Shop has a front-channel logout page, so the
    // sign-out ends with Sesame's 200 page that loads it in a hidden frame
    // and goes on to Shop by a meta refresh. Shop holds its frame's answer
    // until the page is checked.
    await page.goto(`${issuer}/session/end?client_id=${clientId}&post_logout_redirect_uri=${encodeURIComponent(`${app}/`)}&state=fr0nt`);
    // Its load event waits for the held frame: wait for the page itself.
    [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button[name=app_only]')]);
    assert.equal(res.status(), 200);
    const answerFrame = await frameAsked;
    assert.match(await text(), /Signing you out of the app/);
    assert.equal(await page.locator('a#continue').getAttribute('href'), `${app}/?state=fr0nt`);
    // axe's meta-refresh rule flags every timed refresh. Front-Channel
    // Logout needs one: the page must go on to the app's return address
    // by itself, without JavaScript too, once the frames had their few
    // seconds (what is left of backchannel_wait). The page says so in
    // words and offers Continue to go on at once, so nobody waits on it
    // or is stuck. Only that rule, and only on this page, is off.
    await check('11-front-channel', { rules: { 'meta-refresh': { enabled: false } } });
    answerFrame();
    await page.waitForURL(`${app}/?state=fr0nt`); // the page's script, once the frame loaded
    assert.match(await text(), /Shop home/);

    // Sign out for real, with no return address: the signed-out page.
    await page.goto(`${issuer}/session/end`);
    await check('12-confirm-no-app');
    await Promise.all([page.waitForNavigation(), page.click('button[name=logout]')]);
    assert.match(await text(), /You are signed out/);
    await check('13-signed-out');

    // Chromium logs the status of every error page it loads; those pages
    // are expected here. Anything else (a CSP violation) is not.
    const unexpected = errors.filter((e) => !/Failed to load resource: the server responded with a status of (400|401|404) /.test(e));
    assert.deepEqual(unexpected, [], 'console errors (a CSP violation is one)');
  } finally {
    await browser.close();
    appServer.close();
  }
  assert.deepEqual(problems, [], `accessibility problems:\n${problems.join('\n')}`);
  console.log(`chromium (a11y, ${width} px, axe-core ${axe.version}) completed: ${pagesChecked.join(', ')}`);
});
