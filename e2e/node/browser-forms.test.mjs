// A real browser (Debian's Chromium, driven by playwright-core) against
// `sesame serve` with a third-party app, for Sesame's own forms (design W1,
// W2): sign-in, consent and the sign-out confirm page are walked under
// their Content-Security-Policy, whose form-action must allow the app's
// redirect target (Chromium applies form-action to the redirect that
// follows a form post), with no console error, so no CSP violation. Then a
// page on another site (localhost is another site than 127.0.0.1; another
// port is not) makes the browser post the attacker's credentials to
// Sesame's account sign-in: refused with 403, and the browser is not
// signed in. The same page on another port of Sesame's host is the same
// site: the browser says so, and the missing form token refuses it (400).
// Run by e2e/browser_test.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { launch, openPage } from './browser-chromium.mjs';
import { env } from './env.mjs';

const sesame = env('SESAME_URL'); // http://127.0.0.1:PORT
const issuer = `${sesame}/oidc`;
const appPort = Number(env('APP_PORT'));
const app = `http://127.0.0.1:${appPort}`;
const clientId = env('CLIENT_ID');
const password = env('SESAME_PASSWORD');

// The third-party app, and the attacker's page: a form that posts
// mallory's credentials to Sesame's account sign-in.
const attackPage = `<!doctype html><title>Win a prize</title>
<form method="post" action="${sesame}/account/sign-in">
<input type="hidden" name="username" value="mallory"><input type="hidden" name="password" value="mallory's password">
<button type="submit">Claim your prize</button></form>`;
const appServer = createServer((req, res) => {
  const path = new URL(req.url, app).pathname;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  if (path === '/callback') res.end('<!doctype html><title>Shop</title><p>Callback reached</p>');
  else if (path === '/attack') res.end(attackPage);
  else if (path === '/') res.end('<!doctype html><title>Shop</title><p>Shop home</p>');
  else if (path === '/favicon.ico') { res.statusCode = 204; res.end(); }
  else { res.statusCode = 404; res.end('not found'); }
});

const verifier = 'a-browser-test-verifier-that-is-long-enough-0123456789';
const challenge = createHash('sha256').update(verifier).digest('base64url');

test('browser: sign-in, consent and confirm under the CSP; a cross-site post refused', async () => {
  await new Promise((resolve) => appServer.listen(appPort, resolve)); // every interface: localhost may be ::1
  const browser = await launch();
  const flows = [];
  try {
    const { page, errors, shot, text } = await openPage(browser, 'forms');
    const formAction = (res) => (res.headers()['content-security-policy'] || '').split('; ').find((d) => d.startsWith('form-action'));

    const auth = new URL(`${issuer}/auth`);
    for (const [k, v] of Object.entries({
      client_id: clientId, redirect_uri: `${app}/callback`, response_type: 'code', scope: 'openid profile',
      state: 'st4te', nonce: 'n0nce', code_challenge: challenge, code_challenge_method: 'S256',
    })) auth.searchParams.set(k, v);
    let res = await page.goto(auth.href);
    assert.match(await text(), /Sign in to continue to Shop/);
    assert.equal(formAction(res), `form-action 'self' ${app}`);
    await shot('1-sign-in');
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', password);
    [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.match(await text(), /Shop wants to access your account/);
    assert.equal(formAction(res), `form-action 'self' ${app}`);
    await shot('2-consent');
    flows.push('sign-in');
    await Promise.all([page.waitForURL(`${app}/callback?**`), page.click('button[value=allow]')]);
    const cb = new URL(page.url());
    assert.ok(cb.searchParams.get('code'), `no code at ${cb}`);
    assert.equal(cb.searchParams.get('state'), 'st4te');
    flows.push('consent of a third-party app, redirected to it under form-action');

    res = await page.goto(`${issuer}/session/end?client_id=${clientId}&post_logout_redirect_uri=${encodeURIComponent(`${app}/`)}`);
    assert.match(await text(), /Sign out\?/);
    assert.equal(formAction(res), `form-action 'self' ${app}`);
    await shot('3-confirm');
    await Promise.all([page.waitForURL(`${app}/`), page.click('button[name=logout]')]);
    assert.match(await text(), /Shop home/);
    flows.push('sign-out confirm, redirected to the post-logout URI under form-action');
    assert.deepEqual(errors, [], 'console errors (a CSP violation is one)');

    // The attacker's page on another site posts to Sesame.
    const sent = []; // the Sec-Fetch-Site of each post the browser makes
    page.on('request', (r) => {
      if (r.method() === 'POST') sent.push(r.allHeaders().then((h) => h['sec-fetch-site']));
    });
    await page.goto(`http://localhost:${appPort}/attack`);
    [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(res.status(), 403);
    assert.match(await text(), /another site/);
    await shot('4-cross-site-refused');
    assert.equal(await sent.at(-1), 'cross-site');
    flows.push('a cross-site post of the account sign-in refused (403)');

    // The same page on another port of Sesame's own host is the same site.
    await page.goto(`${app}/attack`);
    [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await sent.at(-1), 'same-site');
    assert.equal(res.status(), 400);
    assert.match(await text(), /did not come from Sesame's own page/);
    flows.push('a same-site post from another port refused for want of the form token (400)');

    await page.goto(`${sesame}/account`);
    assert.match(await text(), /Sign in/);
    assert.doesNotMatch(await text(), /mallory/);
  } finally {
    await browser.close();
    appServer.close();
  }
  console.log(`chromium (forms) completed: ${flows.join('; ')}`);
});
