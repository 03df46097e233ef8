// Latchkey driven by openid-client (an independent, certified OpenID relying party):
// discovery -> authorization code + PKCE -> token -> userinfo -> refresh -> revocation ->
// end-session. Run by .ci/run against a live `latchkey serve`; see interop/README.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const ISSUER = env('LATCHKEY_URL');
const REDIRECT_URI = env('REDIRECT_URI');
const POST_LOGOUT_URI = env('POST_LOGOUT_URI');

/** A browser without JavaScript: keeps cookies, never follows redirects by itself. */
class Browser {
  constructor() { this.cookies = new Map(); }
  header() { return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '); }
  remember(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const [name, value] = pair.split('=');
      if (attrs.some((a) => a.trim().toLowerCase() === 'max-age=0')) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value);
    }
  }
  async request(url, init = {}) {
    const response = await fetch(new URL(url, ISSUER), {
      ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: this.header() },
    });
    this.remember(response);
    return response;
  }
  /** Follows redirects until one leaves Latchkey; returns that URL. */
  async followOut(url) {
    for (let i = 0; i < 6; i++) {
      const response = await this.request(url);
      assert.equal(response.status, 303, `${url} answered ${response.status}`);
      const location = new URL(response.headers.get('location'), ISSUER);
      if (location.origin !== new URL(ISSUER).origin) return location;
      if (location.pathname === '/login') return location;
      url = location;
    }
    throw new Error('too many redirects');
  }
  async logIn(loginUrl, email, password) {
    const page = await this.request(loginUrl);
    const html = await page.text();
    const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1].replaceAll('&#38;', '&').replaceAll('&amp;', '&');
    const form = new URLSearchParams({ csrf_token: field('csrf_token'), next: field('next'), email, password });
    const response = await this.request('/login', {
      method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(response.status, 303, 'login succeeds');
    return new URL(response.headers.get('location'), ISSUER);
  }
}

test('openid-client completes the whole relying-party life cycle', async () => {
  const config = await client.discovery(new URL(ISSUER), env('CLIENT_ID'), env('CLIENT_SECRET'), undefined, {
    execute: [client.allowInsecureRequests], // a loopback test server speaks plain HTTP
  });
  assert.equal(config.serverMetadata().issuer, ISSUER);

  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });

  const browser = new Browser();
  const login = await browser.followOut(authorizationUrl);
  assert.equal(login.pathname, '/login');
  const back = await browser.logIn(login, env('USER_EMAIL'), env('USER_PASSWORD'));
  const callback = await browser.followOut(back);
  assert.ok(callback.href.startsWith(REDIRECT_URI));

  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.email, env('USER_EMAIL'));
  assert.equal(claims.email_verified, true);
  assert.ok(claims.sid, 'ID tokens carry sid for back-channel logout');

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, env('USER_EMAIL'));

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate');
  await client.tokenRevocation(config, refreshed.refresh_token);
  await assert.rejects(client.refreshTokenGrant(config, refreshed.refresh_token), 'a revoked refresh token is refused');

  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye',
  });
  const afterLogout = await browser.followOut(endSession);
  assert.equal(afterLogout.href, `${POST_LOGOUT_URI}?state=bye`);
  const account = await browser.request('/account');
  assert.equal(account.status, 303, 'the Latchkey session has ended');
});
