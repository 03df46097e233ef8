// A WebAuthn credential from Chromium's virtual authenticator (CDP WebAuthn domain): register
// it on /account/security, use it as the second step after the password, then sign in with
// it alone (passkey, user verification).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LATCHKEY, launch, journey, signUpAndVerify, assertLabelled } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const EMAIL = 'journey-keys@example.com';
const PASSWORD = 'a third journey password';

test('a passkey as second step and for passwordless sign-in', async () => {
  await journey(browser, 'security-keys', async (page, shot, context) => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await signUpAndVerify(page, shot, EMAIL, PASSWORD, 'Kim Keys');

    await page.goto(`${LATCHKEY}/account/security`);
    await assertLabelled(page);
    await page.getByLabel('Name for a new key').fill('Laptop passkey');
    await shot('security-before-key');
    await page.getByRole('button', { name: 'Add a security key or passkey' }).click();
    await page.waitForURL(/notice=key_added/);
    assert.match(await page.locator('main').textContent(), /Laptop passkey/);
    await shot('key-added');

    await page.getByRole('link', { name: 'Profile' }).click();
    await page.getByRole('button', { name: 'Log out' }).first().click();
    await page.waitForURL(/\/logout/);
    await page.goto(`${LATCHKEY}/login`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/login\/second-factor/);
    await shot('second-step-offers-the-key');
    await page.getByRole('button', { name: 'Use a security key or passkey' }).click();
    await page.waitForURL(/\/account$/);
    await shot('signed-in-with-the-key');

    await page.getByRole('button', { name: 'Log out' }).first().click();
    await page.waitForURL(/\/logout/);
    await page.goto(`${LATCHKEY}/login`);
    await shot('login-with-passkey-button');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(/\/account$/);
    assert.match(await page.locator('main').textContent(), /Kim Keys/);
    await shot('signed-in-without-password');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
    assert.ok(credentials[0].isResidentCredential, 'a discoverable credential (passkey)');

  });
});
