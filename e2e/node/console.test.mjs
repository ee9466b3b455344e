// The operators' console (issue 15) in a real browser (Debian's Chromium,
// driven by playwright-core), as an operator uses it, against `sesame
// serve` with an admin, a person and the demo app:
//
//  1. The admin opens /console and signs in through Sesame's own sign-in
//     page.
//  2. They register a web app, Shop, whose redirect URI and back-channel
//     URI this file serves, and read its @logto/node snippet and its
//     secret (shown once) off the app's page; @logto/node, configured with
//     those values alone, signs the person in through Chromium (Sesame's
//     sign-in page in the browser, the code exchanged by the SDK here).
//     A second app, Ledger, whose back-channel URI is a closed loopback
//     port and whose offline access ends at sign-out, signs the person in
//     by SSO the same way.
//  3. The person's page in the console shows their device, with both
//     apps on it, and both grants, each saying whether it survives a
//     sign-out and why.
//  4. "Sign out every device": the device goes, Shop's grant stays (it
//     survives) and Ledger's ends; Shop's back-channel endpoint receives a
//     logout token that jose verifies (Sesame's iss and keys, Shop's
//     client id, the person's sub and sid), and Shop's deliveries page
//     says delivered.
//  5. Ledger's deliveries page says why its delivery failed, in words
//     (connection refused, and what to check).
//  6. "Send a test logout token" to Shop, to Ledger and to the demo app:
//     Shop's endpoint receives a token for the reserved test subject and
//     the page shows its 200; Ledger's shows the refusal in words; the
//     demo app's page shows its 200 (e2e/console_test.go checks what the
//     demo app received).
//  7. The person, signed in to the console, is refused every page and two
//     actions (403, in words), and nothing changed.
//  8. A page on another site (localhost against 127.0.0.1) posting to a
//     console action is refused (403, Sec-Fetch-Site cross-site); the same
//     page on another port of Sesame's host (same site) is refused for
//     want of the form token (400). Neither created anything.
//
// Screenshots: every page full length at 1024 px and, for the main pages,
// at 360 px (which must not scroll sideways) in e2e/out/; the ones
// docs/console.md shows, cut to a screen or two, in e2e/out/console-docs/,
// which e2e/console_test.go copies into docs/console/ when asked. Run by
// TestConsole in e2e/console_test.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import LogtoClient from '@logto/node';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { launch, openPage } from './browser-chromium.mjs';
import { env } from './env.mjs';
import { memoryStorage } from './logto-storage.mjs';

const sesame = env('SESAME_URL'); // http://127.0.0.1:PORT
const issuer = `${sesame}/oidc`;
const appPort = Number(env('APP_PORT'));
const app = `http://127.0.0.1:${appPort}`;
const admin = { username: env('ADMIN_USERNAME'), password: env('ADMIN_PASSWORD') };
const person = { username: env('USER_USERNAME'), password: env('USER_PASSWORD') };
const unreachable = env('UNREACHABLE_BACKCHANNEL'); // a closed port of 127.0.0.1
const demoApp = env('DEMO_CLIENT_ID');
// Screenshots for docs/console/ are wanted (SESAME_UPDATE_SCREENSHOTS=1).
const forDocs = process.env.UPDATE_SCREENSHOTS === '1';
const wide = { width: 1024, height: 800 };
const narrow = { width: 360, height: 780 };
const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
const backchannelEvent = 'http://schemas.openid.net/event/backchannel-logout';

// The documentation screenshots: 1024 px wide, from the top of the page
// (or of the element from) down to the bottom of the element to, or the
// page's end, at most maxHeight, so that they stay small.
const docs = new URL('../out/console-docs/', import.meta.url);
async function docShot(page, name, { from, to, maxHeight = 900 } = {}) {
  mkdirSync(docs, { recursive: true });
  const [top, bottom] = await page.evaluate(([f, t]) => {
    const y = (sel, edge) => Math.round(document.querySelector(sel).getBoundingClientRect()[edge] + window.scrollY);
    return [f ? Math.max(0, y(f, 'top') - 24) : 0, t ? y(t, 'bottom') + 24 : document.documentElement.scrollHeight];
  }, [from, to]);
  await page.screenshot({
    path: new URL(`${name}.png`, docs).pathname, fullPage: true,
    clip: { x: 0, y: top, width: wide.width, height: Math.min(bottom - top, maxHeight) },
  });
}

// The apps' side, on every interface (localhost may be ::1): Shop's and
// Ledger's callbacks (the SDK reads the code off the browser's URL), Shop's
// back-channel endpoint, which records every logout token and answers
// 200, and an attacker's page that posts a new app to the console.
const received = []; // the logout tokens Shop's back-channel endpoint got
const attackPage = `<!doctype html><title>Win a prize</title>
<form method="post" action="${sesame}/console/apps">
<input type="hidden" name="type" value="web"><input type="hidden" name="name" value="Evil">
<input type="hidden" name="id" value="evil"><input type="hidden" name="redirect_uris" value="https://evil.example/cb">
<button type="submit">Claim your prize</button></form>`;
const appServer = createServer((req, res) => {
  const path = new URL(req.url, app).pathname;
  if (req.method === 'POST' && path === '/shop/backchannel-logout') {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push(new URLSearchParams(body).get('logout_token'));
      res.setHeader('cache-control', 'no-store');
      res.end();
    });
    return;
  }
  res.setHeader('content-type', 'text/html; charset=utf-8');
  if (path === '/shop/callback') res.end('<!doctype html><title>Shop</title><p>Shop: callback reached</p>');
  else if (path === '/ledger/callback') res.end('<!doctype html><title>Ledger</title><p>Ledger: callback reached</p>');
  else if (path === '/attack') res.end(attackPage);
  else if (path === '/') res.end('<!doctype html><title>Shop</title><p>Shop home</p>');
  else if (path === '/favicon.ico') { res.statusCode = 204; res.end(); }
  else { res.statusCode = 404; res.end('not found'); }
});

// verifyLogout checks a logout token as the app should (Back-Channel
// Logout 1.0 §2.6): Sesame's signature, iss, aud, the event, no nonce.
async function verifyLogout(token, clientId) {
  const { payload } = await jwtVerify(token, jwks, { issuer, audience: clientId });
  assert.ok(payload.events && backchannelEvent in payload.events, 'a logout token without the back-channel event');
  assert.equal(payload.nonce, undefined);
  assert.ok(payload.jti && payload.iat);
  return payload;
}

// until polls check (an async boolean) for up to ms.
async function until(check, ms, what) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    if (await check()) return;
  }
  assert.fail(`waited ${ms} ms for ${what}`);
}

// signIn fills in and sends Sesame's sign-in page, which must be the one
// for appName, as who; the browser goes on to where (a glob).
async function signIn(page, text, who, appName, where) {
  assert.match(await text(), new RegExp(`Sign in to continue to ${appName}`));
  await page.fill('input[name=username]', who.username);
  await page.fill('input[name=password]', who.password);
  await Promise.all([page.waitForURL(where), page.click('button[type=submit]')]);
}

// createApp fills the console's "Create an app" form for a web app and
// reads what its answer shows once: the secret, and the @logto/node
// snippet's values.
async function createApp(page, text, { name, path, survives }) {
  await page.goto(`${sesame}/console/apps`);
  await Promise.all([page.waitForURL(`${sesame}/console/apps/new`), page.click('a:text-is("Create an app")')]);
  assert.equal(await page.locator('input[name=type][value=web]').isChecked(), true, 'a web app is the default');
  await page.fill('#name', name);
  await page.fill('#redirect_uris', `${app}/${path}/callback`);
  await page.fill('#post_logout_redirect_uris', `${app}/`);
  if (!survives) await page.uncheck('input[name=offline_survives_signout]');
  const [res] = await Promise.all([page.waitForNavigation(), page.click('button:text-is("Create the app")')]);
  assert.equal(res.status(), 200);
  assert.match(await text(), /The app is created\./);
  assert.match(await text(), /will not show it again/);
  const secret = (await page.locator('.secret code.value').textContent()).trim();
  assert.ok(secret.length >= 32, `a secret of ${secret.length} characters`);
  const snippet = await page.evaluate(() => {
    const h = [...document.querySelectorAll('h3')].find((e) => e.textContent.trim() === '@logto/node');
    let n = h && h.nextElementSibling;
    while (n && n.tagName !== 'PRE') n = n.nextElementSibling;
    return n ? n.textContent : '';
  });
  assert.match(snippet, /import LogtoClient from '@logto\/node';/);
  assert.match(snippet, /appSecret: process\.env\.SESAME_CLIENT_SECRET,/, 'the snippet reads the secret from the environment');
  const field = (re, what) => {
    const m = snippet.match(re);
    assert.ok(m, `no ${what} in the @logto/node snippet:\n${snippet}`);
    return JSON.parse(m[1]);
  };
  const values = {
    name,
    endpoint: field(/endpoint: ("[^"]*"),/, 'endpoint'),
    appId: field(/appId: ("[^"]*"),/, 'appId'),
    redirectUri: field(/logto\.signIn\(("[^"]*")\)/, 'sign-in redirect URI'),
    postLogout: field(/logto\.signOut\(("[^"]*")\)/, 'post sign-out URI'),
    secret,
  };
  assert.equal(values.endpoint, sesame, 'Logto\'s endpoint is Sesame\'s base address');
  assert.equal(values.redirectUri, `${app}/${path}/callback`);
  assert.equal(values.postLogout, `${app}/`);
  // The creation post answers 303 to the app's own page, which shows the
  // secret once (see reloadShowsNoSecret).
  assert.equal(new URL(page.url()).pathname, `/console/apps/${values.appId}`, 'the page the creation post redirects to');
  assert.equal((await page.locator('.meta code').first().textContent()).trim(), values.appId, 'the App ID shown is the snippet\'s');
  return values;
}

// reloadShowsNoSecret reloads the page that showed an app's new secret:
// the page says the secret was shown once, and neither shows it again nor
// makes a new one (the creation was posted, then redirected).
async function reloadShowsNoSecret(page, text, values) {
  await page.reload();
  assert.ok(!(await page.content()).includes(values.secret), 'a reload shows the secret no more');
  assert.match(await text(), /This secret was shown once\./);
}

// setBackchannel sets the app's back-channel logout URI ("is session
// required" ticked) on its page.
async function setBackchannel(page, text, values, uri) {
  await page.goto(`${sesame}/console/apps/${values.appId}`);
  await page.fill('#backchannel_logout_uri', uri);
  await page.check('input[name=backchannel_logout_session_required]');
  await Promise.all([
    page.waitForURL(`${sesame}/console/apps/${values.appId}?done=saved`),
    page.click(`form[action="/console/apps/${values.appId}"] button:text-is("Save")`),
  ]);
  assert.match(await text(), /The changes are saved\./);
  assert.match(await text(), new RegExp(`Back-channel logout URI\\s*${uri.replaceAll('.', '\\.')} · session required: yes`));
}

// logtoSignIn signs the person in to the app in page's browser with
// @logto/node configured from the console's values alone: the SDK makes
// the sign-in URL, the browser goes through Sesame (its sign-in page when
// who is given, SSO otherwise), and the SDK redeems the code it came back
// with.
async function logtoSignIn(values, page, text, who) {
  const { storage } = memoryStorage();
  let navigated;
  const logto = new LogtoClient(
    { endpoint: values.endpoint, appId: values.appId, appSecret: values.secret },
    { navigate: (url) => { navigated = url; }, storage },
  );
  await logto.signIn(values.redirectUri);
  assert.ok(navigated, 'signIn did not navigate');
  const back = `${values.redirectUri}?**`;
  await page.goto(navigated);
  if (who) await signIn(page, text, who, values.name, back);
  else await page.waitForURL(back);
  await logto.handleSignInCallback(page.url());
  assert.equal(await logto.isAuthenticated(), true);
  return logto;
}

// fits lists the page as a problem when it is wider than a 360 px screen.
async function fits(page, name) {
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  return scrollWidth <= narrow.width ? [] : [`${name}: ${scrollWidth} px wide at ${narrow.width} px`];
}

test('console: an operator registers apps, watches a person sign in and out, reads the deliveries', async () => {
  await new Promise((resolve) => appServer.listen(appPort, resolve));
  const browser = await launch();
  const flows = [];
  try {
    const op = await openPage(browser, 'console', { viewport: wide });
    const { page, shot, text } = op;

    // 1. Sign in to the console through Sesame's own sign-in page.
    await page.goto(`${sesame}/console`);
    assert.ok(page.url().startsWith(`${issuer}/`), `the console sent a visitor to ${page.url()}, not to Sesame's sign-in`);
    await signIn(page, text, admin, 'Sesame console', `${sesame}/console/apps`);
    assert.match(await text(), new RegExp(`Signed in as ${admin.username}`));
    assert.equal(await page.locator('h1').textContent(), 'Apps');
    assert.match(await text(), /Demo app/);
    await shot('1-apps-signed-in');
    flows.push('admin signed in to /console through Sesame\'s sign-in page');

    // 2. Register Shop and Ledger; sign the person in with @logto/node.
    const shop = await createApp(page, text, { name: 'Shop', path: 'shop', survives: true });
    await shot('2-app-created');
    await docShot(page, 'console-app', { maxHeight: 1100 });
    await setBackchannel(page, text, shop, `${app}/shop/backchannel-logout`);
    await shot('3-app-backchannel-set');
    const ledger = await createApp(page, text, { name: 'Ledger', path: 'ledger', survives: false });
    await reloadShowsNoSecret(page, text, ledger);
    await setBackchannel(page, text, ledger, unreachable);
    flows.push('two web apps registered, secret and @logto/node snippet read off the page (a reload shows it no more), back-channel URIs set');

    const visitor = await openPage(browser, 'console-person', { viewport: wide });
    const shopLogto = await logtoSignIn(shop, visitor.page, visitor.text, person);
    const claims = await shopLogto.getIdTokenClaims();
    assert.equal(claims.aud, shop.appId);
    assert.ok(claims.sub && claims.sid);
    assert.equal((await shopLogto.fetchUserInfo()).name, 'Alice Example');
    const ledgerLogto = await logtoSignIn(ledger, visitor.page, visitor.text);
    const ledgerClaims = await ledgerLogto.getIdTokenClaims();
    assert.equal(ledgerClaims.sub, claims.sub);
    assert.equal(ledgerClaims.auth_time, claims.auth_time, 'Ledger signed in by SSO: no new sign-in');
    assert.notEqual(ledgerClaims.sid, claims.sid, 'a sid is per app and per session');
    flows.push('@logto/node configured from the snippet signed the person in to Shop (sign-in page in Chromium) and to Ledger (SSO)');

    // 3. The person's device and grants in the console.
    await page.goto(`${sesame}/console/users`);
    assert.equal(await page.locator('h1').textContent(), 'Users');
    const listed = await page.locator('ul.items li').filter({ hasText: 'alice@example.com' }).textContent();
    assert.match(listed, new RegExp(`${person.username}\\s*configuration file\\s*Alice Example\\s*alice@example\\.com`));
    await shot('4-users');
    await docShot(page, 'console-users');
    await Promise.all([page.waitForURL(`${sesame}/console/users/*`), page.click(`a:has-text("${person.username}")`)]);
    const personPage = page.url();
    assert.equal((await page.locator('p .meta code').first().textContent()).trim(), claims.sub, 'the console\'s User ID is the sub apps get');
    const devices = page.locator('ul.items').nth(0).locator('li');
    const grants = page.locator('ul.items').nth(1).locator('li');
    assert.equal(await devices.count(), 1);
    const device = await devices.first().textContent();
    assert.match(device, /Chrome on Linux/);
    assert.match(device, /Apps: (Shop, Ledger|Ledger, Shop)/);
    assert.equal(await grants.count(), 2);
    const shopGrant = await grants.filter({ hasText: 'Shop' }).textContent();
    assert.match(shopGrant, new RegExp(`App ID ${shop.appId}`));
    assert.match(shopGrant, /offline access: yes · on 1 device now/);
    assert.match(shopGrant, /survives sign-out\s*It holds offline_access and the app lets offline access survive sign-out/);
    const ledgerGrant = await grants.filter({ hasText: 'Ledger' }).textContent();
    assert.match(ledgerGrant, /ends at sign-out\s*It holds offline_access, but the app has offline_survives_signout turned off/);
    assert.match(await text(), /Recent sign-ins[\s\S]*signed in to Shop/);
    await shot('5-user-signed-in');
    // What an operator looks at here: the devices and connected apps.
    await docShot(page, 'console-user', { from: 'h2#devices', to: 'h2#apps ~ ul.items', maxHeight: 1000 });
    flows.push('the person\'s device (with both apps) and both grants (one surviving sign-out, one not, each with why) shown');

    // 4. Sign out every device; Shop hears of it by back channel.
    await page.click('summary:text-is("Sign out every device")');
    await Promise.all([page.waitForURL(`${personPage}?done=everywhere`), page.click('button:text-is("Yes, sign out every device")')]);
    assert.match(await text(), /Every device of the user is signed out; the apps were told\./);
    assert.match(await text(), /Not signed in anywhere\./);
    assert.equal(await grants.count(), 1, 'only the grant that survives sign-out is left');
    assert.match(await grants.first().textContent(), /Shop[\s\S]*survives sign-out/);
    assert.match(await text(), /Recent sign-outs\s*.+? UTC: (Every device|One device, every app on it), by an admin · 2 apps/);
    await shot('6-user-signed-out');
    await until(async () => received.length > 0, 10000, 'Shop\'s back-channel endpoint to receive a logout token');
    assert.equal(received.length, 1, 'one logout token for the one session that ended');
    const logout = await verifyLogout(received[0], shop.appId);
    assert.equal(logout.sub, claims.sub);
    assert.equal(logout.sid, claims.sid);
    flows.push('"Sign out every device": the device gone, Ledger\'s grant ended, Shop\'s kept; Shop received a logout token for the person\'s sub and sid, verified with jose');

    await page.goto(`${sesame}/console/apps/${shop.appId}/deliveries`);
    assert.match(await text(), /Back-channel deliveries of Shop/);
    const delivery = page.locator('ul.items li[id^="d-"]');
    assert.equal(await delivery.count(), 1);
    const shopDelivery = await delivery.textContent();
    assert.match(shopDelivery, new RegExp(`delivered\\s*${person.username}`));
    assert.match(shopDelivery, /Attempts\s*1 · last at [^·]+ · delivered at/);
    assert.match(shopDelivery, new RegExp(`sid ${claims.sid}`));
    assert.match(shopDelivery, /receipt \S+/);
    assert.doesNotMatch(await text(), /Why deliveries failed/);
    await shot('7-deliveries-delivered');
    flows.push('Shop\'s deliveries page: delivered at the first attempt, with its receipt');

    // 5. Ledger's delivery failed: the page says why, in words.
    await page.goto(`${sesame}/console/apps/${ledger.appId}/deliveries`);
    const ledgerDelivery = await page.locator('ul.items li[id^="d-"]').textContent();
    assert.match(ledgerDelivery, new RegExp(`(pending|failed)\\s*${person.username}`));
    assert.match(ledgerDelivery, /Last answer\s*\S*.*connection refused/);
    assert.match(ledgerDelivery, /Connection refused\. Nothing accepts connections at that address and port/);
    assert.match(await text(), /Why deliveries failed[\s\S]*?Connection refused\s*· 1 delivery, last at/);
    assert.match(await text(), /the app is not running, listens on another port, or a firewall rejects Sesame/);
    await shot('8-deliveries-refused');
    await docShot(page, 'console-deliveries', { maxHeight: 1000 });
    flows.push('Ledger\'s deliveries page: the failure, connection refused, and what to check, in words');

    // 6. Test logout tokens: Ledger's refused, Shop's and the demo app's
    // answered 200.
    let res;
    [res] = await Promise.all([page.waitForNavigation(), page.click('button:text-is("Send a test logout token")')]);
    assert.equal(res.status(), 200);
    assert.match(await text(), /Connection refused\.\s*Nothing accepts connections/);
    assert.match(await text(), new RegExp(`To\\s*${unreachable.replaceAll('.', '\\.')}`));
    await shot('9-test-token-refused');

    await page.goto(`${sesame}/console/apps/${shop.appId}/deliveries`);
    [res] = await Promise.all([page.waitForNavigation(), page.click('button:text-is("Send a test logout token")')]);
    assert.equal(res.status(), 200);
    assert.match(await text(), /The app answered 200: it accepts Sesame's logout tokens\./);
    assert.match(await text(), /Status\s*200 OK/);
    const testSub = (await page.locator('dd code').nth(2).textContent()).trim();
    assert.match(testSub, /^sesame-test:/);
    assert.equal(received.length, 2, 'Shop received the test token');
    const probe = await verifyLogout(received[1], shop.appId);
    assert.equal(probe.sub, testSub, 'the test token Shop received is the one the page names');
    assert.match(probe.sid, /^sesame-test:/);
    await shot('10-test-token-shop');

    await page.goto(`${sesame}/console/apps/${demoApp}/deliveries`);
    assert.match(await text(), /No deliveries yet\./);
    [res] = await Promise.all([page.waitForNavigation(), page.click('button:text-is("Send a test logout token")')]);
    assert.equal(res.status(), 200);
    assert.match(await text(), /Test logout token to Demo app/);
    assert.match(await text(), /The app answered 200: it accepts Sesame's logout tokens\. It found nobody to sign out/);
    await shot('11-test-token-demo');
    flows.push('"Send a test logout token": Ledger\'s refusal in words; Shop and the demo app answered 200, the page showing it');

    // 7. The person is refused the console, its pages and its actions.
    const refused = await openPage(browser, 'console-refused', { viewport: wide });
    await refused.page.goto(`${sesame}/console`);
    await signIn(refused.page, refused.text, person, 'Sesame console', `${sesame}/console/`);
    assert.match(await refused.text(), /The console is for admins/);
    res = await refused.page.goto(`${sesame}/console/users`);
    assert.equal(res.status(), 403);
    assert.match(await refused.text(), /The console is for admins/);
    assert.match(await refused.text(), new RegExp(`You are signed in as ${person.username}, and your account does not have the admin role\\.`));
    assert.equal(await refused.page.locator('nav a').count(), 0, 'no section is offered');
    await refused.shot('1-refused');
    // The refusal page carries the form token of its sign-out button: a
    // post made with it is a well-formed one, and still refused.
    const post = async (path, fields) => {
      const [r] = await Promise.all([refused.page.waitForNavigation(), refused.page.evaluate(([action, extra]) => {
        const f = document.createElement('form');
        f.method = 'post';
        f.action = action;
        const add = (name, value) => { const i = document.createElement('input'); i.type = 'hidden'; i.name = name; i.value = value; f.append(i); };
        add('csrf', document.querySelector('input[name=csrf]').value);
        for (const [k, v] of Object.entries(extra)) add(k, v);
        document.body.append(f);
        f.submit();
      }, [path, fields])]);
      return r;
    };
    res = await post(`/console/users/${claims.sub}/sign-out`, {});
    assert.equal(res.status(), 403);
    assert.match(await refused.text(), /your account does not have the admin role/);
    res = await post('/console/apps', { type: 'web', name: 'Sneaky', id: 'sneaky', redirect_uris: `${app}/sneaky` });
    assert.equal(res.status(), 403);
    assert.match(await refused.text(), /your account does not have the admin role/);
    await page.goto(personPage);
    assert.equal(await devices.count(), 1, 'the refused sign-out ended nothing');
    assert.match(await devices.first().textContent(), /Apps: Sesame console/);
    flows.push('a non-admin signed in to the console is refused its pages and its actions (403, in words), and nothing changed');

    // 8. Cross-site posts to a console action are refused.
    const sent = []; // the Sec-Fetch-Site of each post the browser makes
    page.on('request', (r) => {
      if (r.method() === 'POST') sent.push(r.allHeaders().then((h) => h['sec-fetch-site']));
    });
    await page.goto(`http://localhost:${appPort}/attack`);
    [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await sent.at(-1), 'cross-site');
    assert.equal(res.status(), 403);
    assert.match(await text(), /This form was sent from another site/);
    await shot('12-cross-site-refused');
    await page.goto(`${app}/attack`); // another port of Sesame's host: the same site
    [res] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(await sent.at(-1), 'same-site');
    assert.equal(res.status(), 400);
    res = await page.goto(`${sesame}/console/apps`);
    assert.equal(res.status(), 200);
    assert.doesNotMatch(await text(), /Evil|Sneaky/);
    assert.match(await text(), /Shop[\s\S]*Ledger|Ledger[\s\S]*Shop/);
    await shot('13-apps');
    await docShot(page, 'console-apps');
    flows.push('a post to a console action from another site refused (403), from another port for want of the form token (400); no app created');

    // The Activity page, when it is there. Sesame adds its counts to the
    // charts once a minute: when the screenshots are for the docs, wait
    // for that, so that the charts show this test's sign-ins and
    // sign-outs.
    res = await page.goto(`${sesame}/console/activity`);
    const activity = res.status() === 200;
    if (activity) {
      const empty = async () => ((await text()).match(/None in this period\./g) || []).length;
      const before = await empty();
      if (forDocs && before > 0) {
        try {
          await until(async () => { await page.reload(); return (await empty()) < before; }, 75000, 'the activity counters\' flush');
        } catch {
          console.log('console: the Activity charts stayed empty for 75 s; its screenshot shows them empty');
        }
      }
      await shot('14-activity');
      await docShot(page, 'console-activity', { maxHeight: 1100 });
      flows.push('the Activity page answered 200 (screenshot taken)');
    } else {
      console.log(`console: /console/activity answered ${res.status()}: no Activity screenshot`);
    }

    // At 360 px: the main pages do not scroll sideways.
    await page.setViewportSize(narrow);
    const tooWide = [];
    const phone = [
      ['apps', '/console/apps'], ['new-app', '/console/apps/new'], ['app', `/console/apps/${shop.appId}`],
      ['users', '/console/users'], ['user', new URL(personPage).pathname],
      ['deliveries', `/console/apps/${ledger.appId}/deliveries`],
    ];
    if (activity) phone.push(['activity', '/console/activity']);
    for (const [name, path] of phone) {
      res = await page.goto(`${sesame}${path}`);
      assert.equal(res.status(), 200, path);
      tooWide.push(...(await fits(page, name)));
      await shot(`360-${name}`);
    }
    assert.deepEqual(tooWide, [], 'console pages wider than a phone');
    flows.push(`${phone.length} console pages at 360 px without sideways scrolling`);

    // Chromium logs the status of each refusal it loads; those are
    // expected. Anything else (a CSP violation) is not.
    const expected = /Failed to load resource: the server responded with a status of (400|403) /;
    for (const p of [op, visitor, refused]) {
      assert.deepEqual(p.errors.filter((e) => !expected.test(e)), [], 'console errors (a CSP violation is one)');
    }
  } finally {
    await browser.close();
    appServer.close();
  }
  console.log(`chromium (console) completed: ${flows.join('; ')}`);
});
