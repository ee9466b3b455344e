// openid-client v6 (the strictest OIDC client there is) against a running
// Sesame: discovery, code + PKCE with nonce, ID token validation, userinfo,
// refresh with rotation, revocation, introspection, and the end-session URL
// it builds, followed to the end; and resource (RFC 8707) on the
// authorization request. TestOpenIDClient in e2e/node_test.go starts Sesame
// and runs this with its address in the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { browser } from './browser.mjs';
import { env } from './env.mjs';

const issuer = new URL(env('SESAME_ISSUER'));
const clientId = env('SESAME_CLIENT_ID');
const secret = env('SESAME_CLIENT_SECRET');
const redirectUri = env('SESAME_REDIRECT_URI');
const postLogout = env('SESAME_POST_LOGOUT_URI');
const password = env('SESAME_PASSWORD');

test('openid-client: sign-in, tokens, refresh, revocation, introspection, sign-out', async () => {
  const config = await client.discovery(issuer, clientId, secret, undefined, { execute: [client.allowInsecureRequests] });
  assert.equal(config.serverMetadata().issuer, issuer.href.replace(/\/$/, ''));
  const flows = ['discovery'];

  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid profile email offline_access', prompt: 'consent',
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', nonce, state,
  });
  const b = browser(issuer);
  let page = await b.go(authUrl);
  assert.match(page.body, /name="password"/);
  page = await b.submit(page, { username: 'alice', password });
  assert.ok(page.url.href.startsWith(redirectUri), `landed on ${page.url}`);

  const tokens = await client.authorizationCodeGrant(config, page.url, {
    pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.ok(claims.sid && claims.auth_time && claims.sub);
  assert.equal(typeof claims.aud, 'string');
  assert.ok(tokens.refresh_token);
  flows.push('code + PKCE + nonce, ID token validated');

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, 'alice@example.com');
  flows.push('userinfo');

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
  flows.push('refresh with rotation, reuse refused');

  const fresh = await signIn(config, b);
  let intro = await client.tokenIntrospection(config, fresh.access_token);
  assert.equal(intro.active, true);
  await client.tokenRevocation(config, fresh.refresh_token);
  intro = await client.tokenIntrospection(config, fresh.access_token);
  assert.equal(intro.active, false);
  flows.push('introspection, revocation');

  const endUrl = client.buildEndSessionUrl(config, {
    id_token_hint: fresh.id_token, post_logout_redirect_uri: postLogout, state: 'bye',
  });
  page = await b.go(endUrl);
  assert.match(page.body, /name="xsrf"/);
  page = await b.submit(page, { logout: 'true' });
  assert.equal(page.url.href, `${postLogout}?state=bye`);
  page = await b.go(client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: 'openid', prompt: 'none', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }));
  assert.equal(page.url.searchParams.get('error'), 'login_required');
  flows.push('end-session URL followed to the end');
  console.log(`openid-client completed: ${flows.join('; ')}`);
});

// signIn runs one more SSO sign-in in b (the session exists).
async function signIn(config, b) {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const page = await b.go(client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid offline_access', prompt: 'consent', nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  }));
  return client.authorizationCodeGrant(config, page.url, { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
}

// RFC 8707 through openid-client: resource on the authorization request
// and at the token endpoint answers a JWT access token for that API, its
// scopes cut to the user's roles; a refresh with resource does too.
test('openid-client: resource on the authorization request', async () => {
  const api = env('SESAME_RESOURCE');
  const config = await client.discovery(issuer, clientId, secret, undefined, { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri, scope: 'openid offline_access read:orders write:orders', prompt: 'consent', resource: api,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state,
  });
  assert.equal(authUrl.searchParams.get('resource'), api);
  const b = browser(issuer);
  let page = await b.go(authUrl);
  page = await b.submit(page, { username: 'alice', password });
  assert.ok(page.url.href.startsWith(redirectUri), `landed on ${page.url}`);
  const tokens = await client.authorizationCodeGrant(config, page.url, { pkceCodeVerifier: verifier, expectedState: state }, { resource: api });
  const at = decodeJWT(tokens.access_token);
  assert.equal(at.header.typ, 'at+jwt');
  assert.equal(at.payload.aud, api);
  assert.equal(at.payload.scope, 'read:orders'); // alice's role does not permit write:orders
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, { resource: api });
  assert.equal(decodeJWT(refreshed.access_token).payload.aud, api);
  console.log('openid-client resource completed: resource on the authorization request; JWT access token at the code exchange and at refresh');
});

// decodeJWT reads a JWT's header and payload (not verified: the Logto
// resource test verifies with jose).
function decodeJWT(token) {
  const [h, p] = token.split('.');
  const part = (s) => JSON.parse(Buffer.from(s, 'base64url').toString());
  return { header: part(h), payload: part(p) };
}
