// Logto's own SDK asking for an API's token, as Logto's users do: the
// client is configured with `resources`, signs in (the SDK sends one
// `resource` per API on the authorization request), then
// `getAccessToken(resource)` makes a refresh_token grant with `resource` and
// gets a JWT access token (RFC 9068) for that API, which `jose` verifies as
// the API would: signature against the JWKS, typ at+jwt, iss, aud, exp. An
// API nobody registered is refused (invalid_target), and a machine client
// gets a token for the API with client_credentials and `resource`. Run by
// TestLogtoResource in e2e/node_test.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import LogtoClient from '@logto/node';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { browser } from './browser.mjs';
import { env } from './env.mjs';
import { memoryStorage } from './logto-storage.mjs';

const issuer = new URL(env('SESAME_ISSUER'));
const endpoint = issuer.href.replace(/\/oidc\/?$/, '');
const api = env('SESAME_RESOURCE');
const jwks = createRemoteJWKSet(new URL(`${issuer.href.replace(/\/$/, '')}/jwks`));

// verify checks a token as an API on the resource would.
const verify = (token) => jwtVerify(token, jwks, {
  issuer: issuer.href.replace(/\/$/, ''), audience: api, typ: 'at+jwt', algorithms: ['ES256', 'RS256'],
});

test('@logto/node: getAccessToken(resource) answers a JWT for the API', async () => {
  const { saved, storage } = memoryStorage();
  let navigated;
  const logto = new LogtoClient(
    {
      endpoint, appId: env('SESAME_CLIENT_ID'), appSecret: env('SESAME_CLIENT_SECRET'),
      resources: [api], scopes: ['read:orders', 'write:orders'],
    },
    { navigate: (url) => { navigated = url; }, storage },
  );
  const flows = [];
  const b = browser(issuer);

  await logto.signIn(env('SESAME_REDIRECT_URI'));
  const asked = new URL(navigated);
  assert.deepEqual(asked.searchParams.getAll('resource'), [api], 'the SDK did not send resource');
  let page = await b.go(navigated);
  page = await b.submit(page, { username: 'alice', password: env('SESAME_PASSWORD') });
  assert.ok(page.url.href.startsWith(env('SESAME_REDIRECT_URI')), `landed on ${page.url}`);
  await logto.handleSignInCallback(page.url.href);
  flows.push('sign-in with resource');

  const token = await logto.getAccessToken(api);
  const { payload, protectedHeader } = await verify(token);
  assert.equal(protectedHeader.typ, 'at+jwt');
  assert.equal(payload.aud, api);
  assert.equal(payload.client_id, env('SESAME_CLIENT_ID'));
  assert.ok(payload.sub && payload.jti && payload.iat && payload.exp && payload.auth_time && payload.sid);
  // alice's role permits read:orders only: write:orders is dropped.
  assert.deepEqual(payload.scope.split(' ').sort(), ['read:orders']);
  flows.push('getAccessToken(resource) verified by jose (typ, iss, aud, exp, signature), scopes cut to the roles');

  const me = await fetch(`${issuer.href.replace(/\/$/, '')}/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(me.status, 401, 'userinfo took an API token');
  flows.push('userinfo refuses it');

  // The SDK reports only that the server refused; the refusal itself, asked
  // for directly with the SDK's refresh token, is invalid_target, and it
  // does not spend that refresh token.
  await assert.rejects(logto.getAccessToken('https://nobody.example/api'));
  const basicApp = Buffer.from(`${env('SESAME_CLIENT_ID')}:${env('SESAME_CLIENT_SECRET')}`).toString('base64');
  const refused = await fetch(`${issuer.href.replace(/\/$/, '')}/token`, {
    method: 'POST', headers: { authorization: `Basic ${basicApp}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: saved.get('refreshToken'), resource: 'https://nobody.example/api' }),
  });
  assert.equal(refused.status, 400);
  assert.equal((await refused.json()).error, 'invalid_target');
  await logto.getAccessToken(api); // cached: no refresh
  flows.push('an unregistered resource refused (invalid_target)');

  const basic = Buffer.from(`${env('SESAME_M2M_ID')}:${env('SESAME_M2M_SECRET')}`).toString('base64');
  const m2m = await fetch(`${issuer.href.replace(/\/$/, '')}/token`, {
    method: 'POST', headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: api, scope: 'read:orders write:orders' }),
  }).then((r) => r.json());
  assert.ok(m2m.access_token, JSON.stringify(m2m));
  const verified = await verify(m2m.access_token);
  assert.equal(verified.payload.sub, env('SESAME_M2M_ID'));
  assert.deepEqual(verified.payload.scope.split(' '), ['read:orders']);
  flows.push('client_credentials with resource');

  console.log(`@logto/node resource completed: ${flows.join('; ')}`);
});
