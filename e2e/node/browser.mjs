// A person's browser for the interop tests: it keeps Sesame's cookies,
// follows Sesame's own redirects, stops at a redirect that leaves Sesame,
// and fills Sesame's forms as docs/endpoints.md describes them.
import assert from 'node:assert/strict';

// browser keeps Sesame's cookies and follows Sesame's own redirects, as a
// person's browser would; it stops at a redirect that leaves Sesame.
export function browser(issuer) {
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

