// A real browser (Debian's Chromium, driven by playwright-core) against
// `sesame demo`: sign in to App One through Sesame's sign-in page, open App
// Two and be signed in by SSO, sign out of App One with JavaScript on (the
// confirm page submits itself) and see App Two say Not signed in after its
// back-channel logout. With SESAME_CONFIRM=ask, the person picks "this app
// only" and App Two stays signed in. Every page is screenshot into e2e/out/
// and must log no console error, so no violation of the pages' CSP (whose
// form-action allows App One's redirect). Run by e2e/browser_test.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage } from './browser-chromium.mjs';
import { env } from './env.mjs';

const app1 = env('DEMO_APP1');
const app2 = env('DEMO_APP2');
const password = env('DEMO_PASSWORD');
const mode = env('SESAME_CONFIRM');
// Sesame sends the person back to App One's post-logout URI with state.
const backHome = new RegExp(`^${app1.replaceAll('.', '\\.')}/\\?state=`);

test(`browser: SSO and sign-out (signout_confirm: ${mode})`, async () => {
  const browser = await launch();
  const flows = [];
  try {
    const { page, errors, shot, text } = await openPage(browser, mode);

    const signIn = await page.goto(`${app1}/sign-in`);
    assert.match(await text(), /Sign in to continue to App One/);
    // W2: the form may post to Sesame and be redirected to App One only.
    assert.match(signIn.headers()['content-security-policy'], new RegExp(`form-action 'self' ${app1}(;|$)`));
    await shot('1-sign-in');
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', password);
    await Promise.all([page.waitForURL(`${app1}/**`), page.click('button[type=submit]')]);
    assert.match(await text(), /Signed in as alice/);
    await shot('2-app-one-signed-in');
    flows.push('password sign-in');

    await new Promise((r) => setTimeout(r, 1100)); // auth_time has one-second steps
    await page.goto(`${app2}/sign-in`);
    await page.waitForURL(`${app2}/**`);
    assert.match(await text(), /Signed in as alice/);
    assert.match(await text(), /single sign-on/);
    await shot('3-app-two-sso');
    flows.push('SSO');

    if (mode === 'auto') {
      await page.goto(`${app1}/sign-out`); // the confirm page submits itself
      await page.waitForURL(backHome);
      assert.match(await text(), /Not signed in/);
      await shot('4-app-one-signed-out');
      await page.goto(`${app2}/`);
      assert.match(await text(), /Not signed in/);
      assert.match(await text(), /back-channel logout/);
      await shot('5-app-two-signed-out');
      flows.push('global sign-out by the self-submitting confirm page; App Two told by back channel');
    } else {
      await page.goto(`${app1}/sign-out`);
      assert.match(await text(), /Sign out of App One only/);
      assert.match(await text(), /App Two/); // the page names the apps of this browser
      await shot('4-confirm-ask');
      await Promise.all([page.waitForURL(backHome), page.click('button[name=app_only]')]);
      assert.match(await text(), /Not signed in/);
      await page.goto(`${app2}/`);
      assert.match(await text(), /Signed in as alice/);
      await shot('5-app-two-still-signed-in');
      flows.push('this-app-only sign-out; App Two still signed in');
    }
    assert.deepEqual(errors, [], 'console errors');
  } finally {
    await browser.close();
  }
  console.log(`chromium (${mode}) completed: ${flows.join('; ')}`);
});
