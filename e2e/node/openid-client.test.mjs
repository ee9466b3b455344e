// openid-client v6 (the strictest OIDC client there is) against a running
// Sesame: discovery, code + PKCE with nonce, ID token validation, userinfo,
// refresh with rotation, revocation, introspection, and the end-session URL
// it builds, followed to the end. The Go test e2e/openid_client_test.go
// starts Sesame and runs this with its address in the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through go test ./e2e/`);
  return v;
};
const issuer = new URL(env('SESAME_ISSUER'));
const clientId = env('SESAME_CLIENT_ID');
const secret = env('SESAME_CLIENT_SECRET');
const redirectUri = env('SESAME_REDIRECT_URI');
const postLogout = env('SESAME_POST_LOGOUT_URI');
const password = env('SESAME_PASSWORD');

// browser keeps Sesame's cookies and follows Sesame's own redirects, as a
// person's browser would; it stops at a redirect that leaves Sesame.
function browser() {
  const jar = new Map();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (attrs.some((a) => /max-age=-1|max-age=0/i.test(a.trim())) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  };
  async function go(url, init = {}) {
    for (let i = 0; i < 10; i++) {
      const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers || {}), cookie: cookieHeader() } });
      keep(res);
      const loc = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && loc) {
        const next = new URL(loc, url);
        if (next.origin !== issuer.origin) return { status: res.status, url: next, body: '' };
        url = next;
        init = {};
        continue;
      }
      return { status: res.status, url: new URL(url), body: await res.text() };
    }
    throw new Error('too many redirects');
  }
  async function submit(page, fields) {
    const form = page.body.match(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/);
    assert.ok(form, `no form on ${page.url}: ${page.body.slice(0, 200)}`);
    const data = new URLSearchParams();
    for (const m of form[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) data.set(m[1], m[2]);
    for (const [k, v] of Object.entries(fields)) data.set(k, v);
    const action = new URL(form[1].replaceAll('&amp;', '&'), page.url);
    return go(action, { method: 'POST', body: data, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }
  return { go, submit };
}

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
  const b = browser();
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
