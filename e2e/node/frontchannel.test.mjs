// Front-channel logout (design F2) in a real browser (Debian's Chromium,
// driven by playwright-core), for apps on another site than Sesame: Sesame
// on 127.0.0.1, the demo's App One and App Two on localhost. Chromium signs
// in to App One, into App Two by SSO, then signs out of App One (every
// app). Sesame's last page is a 200 that loads both apps' front-channel
// pages in hidden frames and goes on to App One's post_logout_redirect_uri:
// with FC_JAVASCRIPT=on by its script once the frames have loaded, with
// FC_JAVASCRIPT=off (the confirm button clicked) by its meta refresh
// alone, after the delay it states. App Two, whose front-channel page was
// its only channel, then says Not signed in and that it was told by
// front-channel logout. What each app's handler received (iss, sid,
// cookies) is checked and logged by e2e/frontchannel_test.go, which runs
// this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './browser-chromium.mjs';
import { env } from './env.mjs';

const issuer = `${env('SESAME_URL')}/oidc`; // http://127.0.0.1:PORT/oidc
const app1 = env('DEMO_APP1'); // http://localhost:PORT
const app2 = env('DEMO_APP2');
const password = env('DEMO_PASSWORD');
const js = env('FC_JAVASCRIPT') === 'on';
const run = `JavaScript ${js ? 'on' : 'off'}`;
const confirmURL = `${issuer}/session/end/confirm`;
// Sesame sends the person back to App One's post-logout URI with state.
const backHome = new RegExp(`^${app1.replaceAll('.', '\\.')}/\\?state=`);

test(`browser: front-channel logout of apps on another site (${run})`, async () => {
  const browser = await launch();
  const flows = [];
  let held = '';
  try {
    const { page, errors, shot, text } = await openPage(browser, `frontchannel-js-${js ? 'on' : 'off'}`, { javaScriptEnabled: js });
    // The pages the browser showed, with their status and when, and the
    // front-channel pages its frames asked for.
    const visits = [];
    const frames = [];
    page.on('response', (r) => {
      if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) visits.push({ url: r.url(), status: r.status(), at: Date.now() });
    });
    page.on('request', (r) => {
      if (r.frame() !== page.mainFrame() && new URL(r.url()).pathname === '/frontchannel-logout') frames.push(new URL(r.url()).origin);
    });

    await page.goto(`${app1}/sign-in`);
    assert.match(await text(), /Sign in to continue to App One/);
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', password);
    await Promise.all([page.waitForURL(`${app1}/**`), page.click('button[type=submit]')]);
    assert.match(await text(), /Signed in as alice/);
    await page.goto(`${app2}/sign-in`);
    assert.match(await text(), /Signed in as alice/);
    flows.push('sign-in to App One and to App Two by SSO, both on localhost');
    held = (await page.context().cookies(app1))
      .map((c) => `${c.name} (SameSite=${c.sameSite}${c.secure ? ', Secure' : ''})`).sort().join(', ');

    await page.goto(`${app1}/sign-out`);
    if (js) {
      // The confirm page submits itself; the front-channel page's script
      // goes on once both frames have loaded.
      await page.waitForURL(backHome);
    } else {
      assert.match(await text(), /Sign out\?/);
      await Promise.all([page.waitForURL(confirmURL), page.click('button[name=logout]')]);
      // Without JavaScript only the meta refresh can go on: the page is
      // still here, and says what happens.
      assert.match(await text(), /Signing you out of your apps/);
      const refresh = await page.locator('meta[http-equiv=refresh]').getAttribute('content');
      assert.match(refresh, /^[1-9]\d*;url=/);
      assert.equal(await page.locator('iframe[hidden]').count(), 2);
      assert.equal(await page.locator('a#continue').getAttribute('href'), refresh.replace(/^\d+;url=/, ''));
      await shot('front-channel-page');
      await page.waitForURL(backHome, { timeout: 15000 });
    }
    const page200 = visits.find((v) => v.url === confirmURL);
    const home = visits.at(-1);
    assert.ok(page200, `the browser never showed Sesame's last sign-out page: ${JSON.stringify(visits)}`);
    assert.equal(page200.status, 200, 'the last sign-out page is a 200, not a redirect');
    assert.match(home.url, backHome);
    assert.deepEqual(frames.sort(), [app1, app2].sort(), 'the frames loaded each app\'s front-channel page once');
    if (!js) assert.ok(home.at - page200.at >= 900, `the meta refresh went on after ${home.at - page200.at} ms, before its delay`);
    assert.match(await text(), /Not signed in/);
    assert.match(await text(), /You signed out of App One\./);
    await shot('app-one-signed-out');
    flows.push(`global sign-out: Sesame's 200 page loaded both apps' pages in cross-site frames, then went on to App One by ${js ? 'its script' : 'its meta refresh'}`);

    await page.goto(`${app2}/`);
    assert.match(await text(), /Not signed in/);
    assert.match(await text(), /Sesame told this app, by front-channel logout, that your session ended/);
    await shot('app-two-told');
    flows.push('App Two told by its front-channel page');
    assert.deepEqual(errors, [], 'console errors');
  } finally {
    await browser.close();
  }
  console.log(`chromium (front-channel, ${run}) completed: ${flows.join('; ')}; the browser held for localhost: ${held}`);
});
