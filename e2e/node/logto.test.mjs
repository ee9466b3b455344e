// Logto's own SDK (@logto/node over @logto/client) configured with
// Sesame's base URL, as Logto's users configure it: sign-in, callback,
// getIdTokenClaims, getAccessToken, fetchUserInfo, and signOut (which
// revokes its refresh token and sends only client_id and the
// post-logout URI), then the end-session confirm as Logto's page posts it
// (logout=yes). Run by TestLogtoNodeSDK in e2e/node_test.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import LogtoClient from '@logto/node';
import { browser } from './browser.mjs';
import { env } from './env.mjs';
import { memoryStorage } from './logto-storage.mjs';

const issuer = new URL(env('SESAME_ISSUER'));
const endpoint = issuer.href.replace(/\/oidc\/?$/, '');

test('@logto/node: sign-in, tokens, userinfo, sign-out', async () => {
  const { saved, storage } = memoryStorage();
  let navigated;
  const logto = new LogtoClient(
    { endpoint, appId: env('SESAME_CLIENT_ID'), appSecret: env('SESAME_CLIENT_SECRET') },
    { navigate: (url) => { navigated = url; }, storage },
  );
  const flows = [];
  const b = browser(issuer);

  await logto.signIn(env('SESAME_REDIRECT_URI'));
  assert.ok(navigated, 'signIn did not navigate');
  const asked = new URL(navigated);
  assert.equal(asked.searchParams.get('prompt'), 'consent');
  let page = await b.go(navigated);
  page = await b.submit(page, { username: 'alice', password: env('SESAME_PASSWORD') });
  assert.ok(page.url.href.startsWith(env('SESAME_REDIRECT_URI')), `landed on ${page.url}`);
  await logto.handleSignInCallback(page.url.href);
  assert.equal(await logto.isAuthenticated(), true);
  flows.push('sign-in and callback');

  const claims = await logto.getIdTokenClaims();
  assert.equal(claims.aud, env('SESAME_CLIENT_ID'));
  assert.ok(claims.sid && claims.sub);
  flows.push('getIdTokenClaims');

  const at = await logto.getAccessToken();
  assert.ok(at);
  flows.push('getAccessToken');

  const info = await logto.fetchUserInfo();
  // Logto asks openid offline_access profile by default: no email scope.
  assert.equal(info.sub, claims.sub);
  assert.equal(info.name, 'Alice Example');
  flows.push('fetchUserInfo');

  const refreshToken = saved.get('refreshToken');
  assert.ok(refreshToken, 'no refresh token kept (offline_access with prompt=consent)');
  navigated = undefined;
  await logto.signOut(env('SESAME_POST_LOGOUT_URI'));
  const basic = Buffer.from(`${env('SESAME_CLIENT_ID')}:${env('SESAME_CLIENT_SECRET')}`).toString('base64');
  const intro = await fetch(`${issuer.href.replace(/\/$/, '')}/token/introspection`, {
    method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: refreshToken }),
  }).then((r) => r.json());
  assert.equal(intro.active, false, 'signOut did not revoke the refresh token');
  assert.ok(navigated, 'signOut did not navigate');
  const end = new URL(navigated);
  assert.equal(end.searchParams.get('client_id'), env('SESAME_CLIENT_ID'));
  page = await b.go(navigated);
  assert.match(page.body, /name="xsrf"/);
  page = await b.submit(page, { logout: 'yes' });
  assert.equal(page.url.href, env('SESAME_POST_LOGOUT_URI'));
  assert.equal(await logto.isAuthenticated(), false);
  flows.push('signOut (refresh token revoked) and the end-session confirm');
  console.log(`@logto/node completed: ${flows.join('; ')}`);
});
