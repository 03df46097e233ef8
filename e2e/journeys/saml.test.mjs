// SAML single sign-on (issue 15's journey): an organization connects its identity provider —
// pysaml2 signing with xmlsec1, an IdP we did not write (interop/saml/idp.py serve) — and a
// person on its domain goes from the Tracker demo product, through Latchkey's login page with
// only the email, to the IdP and back, and Tracker gets its code: signed in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LATCHKEY, TRACKER, launch, journey, startDns, assertLabelled, signUpAndVerify } from '../lib.mjs';

const BIN = process.env.E2E_LATCHKEY_BIN;
const IDP_SCRIPT = new URL('../../interop/saml/idp.py', import.meta.url).pathname;
const DOMAIN = 'saml-journey.test';
const PERSON = `sam@${DOMAIN}`;
const PAT = `pat@${DOMAIN}`;

const txt = new Map();
let dns;
let browser;
let idp;
let idpUrl;

// Asynchronous: the DNS server the CLI asks runs in this process.
const run = promisify(execFile);
async function latchkey(...args) {
  const { stdout } = await run(BIN, [...args, '--json'], { encoding: 'utf8' });
  return JSON.parse(stdout);
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  dns = await startDns(txt);
  browser = await launch();
  const port = await freePort();
  idpUrl = `http://127.0.0.1:${port}`;
  idp = spawn('python3', [IDP_SCRIPT, 'serve', '--entity-id', `${idpUrl}/idp`, '--sso-url', `${idpUrl}/sso`, '--port', String(port)], { stdio: 'inherit' });
  for (let i = 0; i < 100; i += 1) {
    try {
      await fetch(`${idpUrl}/sso`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});
after(async () => {
  await browser?.close();
  dns?.close();
  idp?.kill();
});

test('a person signs in to a product through the organization\'s identity provider', async () => {
  await journey(browser, 'saml-sign-in', async (page, shot, context) => {
    // Before the organization connects its IdP, Pat signs up with a password and a passkey.
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await signUpAndVerify(page, shot, PAT, 'pat has a long password', 'Pat Passkey');
    await page.goto(`${LATCHKEY}/account/security`);
    await page.getByLabel('Name for a new key').fill('Pat passkey');
    await page.getByRole('button', { name: 'Add a security key or passkey' }).click();
    await page.waitForURL(/notice=key_added/);
    await page.getByRole('link', { name: 'Profile' }).click();
    await page.getByRole('button', { name: 'Log out' }).first().click();
    await page.waitForURL(/\/logout/);

    // The organization, its verified domain and its SAML connection (CLI on the same database).
    await latchkey('user', 'create', '--email', `admin@${DOMAIN}`, '--verified');
    const org = (await latchkey('org', 'create', '--name', 'Saml Journey', '--admin', `admin@${DOMAIN}`)).org_id;
    const added = await latchkey('org', 'domain', 'add', '--org', org, '--domain', DOMAIN);
    txt.set(DOMAIN, [`latchkey-verification=${added.token}`]);
    assert.equal((await latchkey('org', 'domain', 'verify', '--org', org, '--domain', DOMAIN)).status, 'verified');
    const dir = mkdtempSync(join(tmpdir(), 'saml-journey-'));
    const metadata = join(dir, 'idp.xml');
    writeFileSync(metadata, (await run('python3', [IDP_SCRIPT, 'metadata', '--entity-id', `${idpUrl}/idp`, '--sso-url', `${idpUrl}/sso`], { encoding: 'utf8' })).stdout);
    const connection = await latchkey('org', 'saml', 'add', '--org', org, '--name', 'Test IdP', '--domain', DOMAIN, '--metadata-file', metadata, '--jit');
    assert.match(connection.acs_url, /\/saml\/.+\/acs$/);
    await latchkey('org', 'policy', 'update', '--org', org, '--policy', 'default', '--sso-required');
    // The CLI wrote to the database; a running server sees policy changes within
    // RECHECK_SECS (2 s).
    await new Promise((r) => setTimeout(r, 2500));
    try {
      // SSO required: Pat's passkey no longer signs in; the page points to the IdP.
      await page.goto(`${LATCHKEY}/login`);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.getByText('identity provider').first().waitFor();
      assert.match(page.url(), /\/login/);
      await shot('passkey-refused-sso-required');

      // Sam: from Tracker to the login page (email first), the IdP, and back with a code.
      await page.goto(`${TRACKER}/`);
      await page.getByRole('link', { name: 'Sign in with Latchkey' }).click();
      await page.waitForURL(/\/login/);
      await assertLabelled(page);
      assert.equal(await page.getByLabel('Password').count(), 0, 'the password is one step away');
      await page.getByLabel('Email').fill(PERSON);
      await shot('email-first');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.waitForURL(`${idpUrl}/sso?**`);
      await page.getByLabel('Who signs in').fill(PERSON);
      await shot('identity-provider');
      await page.getByRole('button', { name: 'Sign in at the IdP' }).click();
      await page.getByRole('button', { name: 'Continue to the service' }).click();
      await page.waitForURL(`${TRACKER}/`);
      assert.match(await page.locator('#who').textContent(), /Signed in as Sam Lambert/);
      await shot('product-signed-in');
      await page.goto(`${LATCHKEY}/account`);
      assert.match(await page.textContent('body'), new RegExp(PERSON));
      await shot('account');
      await page.getByRole('button', { name: 'Log out' }).first().click();
      await page.waitForURL(/\/logout/);

      // Someone on another domain: the password is the next step.
      await page.goto(`${LATCHKEY}/login`);
      await page.getByLabel('Email').fill('someone@example.com');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByLabel('Password').waitFor();
      await assertLabelled(page);
      await shot('password-step');
    } finally {
      // The journeys after this one expect the classic login page.
      await latchkey('org', 'saml', 'remove', '--org', org, '--connection', connection.connection_id);
    }
  });
});
