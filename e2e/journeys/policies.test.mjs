// Authentication policies (issue 12's journey): an org admin tightens the organization's
// policy in the console (new passwords for everyone, two-step required), looking at the preview
// before saving. A member signing in to the demo Tracker is then sent through the new-password
// page (with its live strength meter) and the two-step set-up, and arrives in Tracker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LATCHKEY, TRACKER, launch, journey, startDns, signUpAndVerify, assertLabelled, totp } from '../lib.mjs';

const BIN = process.env.E2E_LATCHKEY_BIN;
const DOMAIN = 'policy-journey.test';
const ADMIN = `ines@${DOMAIN}`;
const MEMBER = `cleo@${DOMAIN}`;
const PASSWORD = 'policy journey first password';
const NEW_PASSWORD = 'marble kettle orbit 2027';

const txt = new Map();
let dns;
let browser;

before(async () => {
  dns = await startDns(txt);
  browser = await launch();
});
after(async () => {
  await browser?.close();
  dns?.close();
});

/// The CLI, run without blocking: the DNS server above answers from this same process.
async function latchkey(...args) {
  const { stdout } = await promisify(execFile)(BIN, [...args, '--json'], { encoding: 'utf8' });
  return JSON.parse(stdout);
}

test('a tightened policy sends a member through a new password and two-step set-up into the product', async () => {
  // Cleo works at the company and has an account; the domain is verified from the CLI.
  const member = await browser.newContext();
  const cleo = await member.newPage();
  await signUpAndVerify(cleo, async () => {}, MEMBER, PASSWORD, 'Cleo Member');
  await member.close();

  await journey(browser, 'policies-admin', async (page, shot) => {
    await signUpAndVerify(page, async () => {}, ADMIN, PASSWORD, 'Ines Admin');
    const org = (await latchkey('org', 'create', '--name', 'Policy Co', '--admin', ADMIN)).org_id;
    const added = await latchkey('org', 'domain', 'add', '--org', org, '--domain', DOMAIN);
    txt.set(DOMAIN, [`latchkey-verification=${added.token}`]);
    assert.equal((await latchkey('org', 'domain', 'verify', '--org', org, '--domain', DOMAIN)).status, 'verified');

    await page.goto(`${LATCHKEY}/admin/org/${org}`);
    await page.getByRole('link', { name: 'Authentication policies' }).click();
    await page.waitForURL(`${LATCHKEY}/admin/org/${org}/policies`);
    await assertLabelled(page);
    await shot('policies');

    await page.getByLabel(/Minimum length/).fill('12');
    await page.getByLabel(/Everyone under this policy chooses a new password/).check();
    await page.getByLabel(/Required: people set up/).check();
    await page.getByLabel(/Grace period/).fill('0');
    await page.getByRole('button', { name: 'Preview change' }).click();
    const preview = await page.locator('#preview').textContent();
    assert.match(preview, /covers 2 people/);
    assert.match(preview, /require 2 of them to choose a new password at their next login/);
    assert.match(preview, /2 of them will have to set up two-step verification at their next login/);
    await shot('preview');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/notice=saved/);
    await page.getByText('The policy was saved').waitFor();
    await shot('saved');

    await page.goto(`${LATCHKEY}/admin/org/${org}/audit`);
    assert.match(await page.locator('table').textContent(), /policy\.updated/);
  });

  await journey(browser, 'policies-member', async (page, shot) => {
    await page.goto(`${TRACKER}/`);
    await page.getByRole('link', { name: 'Sign in with Latchkey' }).click();
    await page.getByLabel('Email').fill(MEMBER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();

    await page.waitForURL(/\/login\/new-password/);
    await assertLabelled(page);
    const field = page.getByLabel('New password', { exact: true });
    await field.pressSequentially('password123', { delay: 10 });
    await page.locator('[data-strength-hint]').filter({ hasText: /common passwords/ }).waitFor();
    await shot('meter-common');
    await field.fill('');
    await field.pressSequentially(NEW_PASSWORD, { delay: 10 });
    await page.locator('[data-strength-hint]').filter({ hasText: /Strong|Good/ }).waitFor();
    assert.ok((await page.locator('[data-strength-meter] meter').evaluate((m) => m.value)) >= 3, 'the meter shows a strong password');
    await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('new-password-390px');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: /Set new password/ }).click();

    await page.waitForURL(/\/login\/two-step-setup/);
    await assertLabelled(page);
    await page.getByText('requires two-step verification').waitFor();
    await shot('two-step-setup');
    const secret = (await page.locator('#totp-secret').textContent()).replace(/\s+/g, '');
    await page.getByLabel(/6-digit code/).fill(totp(secret));
    await page.getByRole('button', { name: /turn on/i }).click();
    assert.equal((await page.locator('#recovery-codes code').allTextContents()).length, 10);
    await shot('recovery-codes');
    // The way on waits for "I have saved these codes".
    assert.equal(await page.locator('#codes-done').getAttribute('aria-disabled'), 'true');
    await page.getByLabel('I have saved these codes somewhere safe').check();
    assert.equal(await page.locator('#codes-done').getAttribute('aria-disabled'), 'false');
    await page.getByRole('link', { name: /continue/i }).click();

    await page.waitForURL(`${TRACKER}/`);
    assert.match(await page.locator('#who').textContent(), /Signed in as Cleo Member/);
    await shot('in-tracker');
  });
});

test('under the same policy, a new member sets up a passkey as the required factor and arrives in the product', async () => {
  const DAN = `dan@${DOMAIN}`;
  // --password-stdin reads the password from standard input.
  await new Promise((resolve, reject) => {
    const child = execFile(BIN, ['user', 'create', '--email', DAN, '--name', 'Dan Member', '--verified', '--password-stdin', '--json'], (err) => (err ? reject(err) : resolve()));
    child.stdin.end(`${PASSWORD}\n`);
  });
  await journey(browser, 'policies-passkey', async (page, shot, context) => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await page.goto(`${TRACKER}/`);
    await page.getByRole('link', { name: 'Sign in with Latchkey' }).click();
    await page.getByLabel('Email').fill(DAN);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/login\/two-step-setup/);
    await assertLabelled(page);
    await page.getByLabel('Name for the key').fill('Dan laptop');
    await shot('setup-offers-a-key');
    await page.getByRole('button', { name: 'Set up a security key or passkey' }).click();
    await page.waitForURL(`${TRACKER}/`);
    assert.match(await page.locator('#who').textContent(), /Signed in as Dan Member/);
    await shot('in-tracker-with-a-passkey');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1);
  });
});

test('a site admin edits the site default policy from the console', async () => {
  const ROOT = 'root-policy@example.com';
  await new Promise((resolve, reject) => {
    const child = execFile(BIN, ['user', 'create', '--email', ROOT, '--name', 'Site Root', '--verified', '--site-admin', '--password-stdin'], (err) => (err ? reject(err) : resolve()));
    child.stdin.end(`${PASSWORD}\n`);
  });
  await journey(browser, 'policies-site', async (page, shot) => {
    await page.goto(`${LATCHKEY}/login`);
    await page.getByLabel('Email').fill(ROOT);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/account/);
    await page.goto(`${LATCHKEY}/admin`);
    await page.getByRole('link', { name: 'Policy', exact: true }).click();
    await page.waitForURL(`${LATCHKEY}/admin/policy`);
    await assertLabelled(page);
    await shot('site-policy');
    await page.getByLabel(/A sign-in lasts at most/).fill('720');
    await page.getByLabel(/minutes unused/).fill('60');
    await page.getByRole('button', { name: 'Preview change' }).click();
    await page.locator('#preview').waitFor();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/notice=saved/);
    assert.equal(await page.getByLabel(/A sign-in lasts at most/).inputValue(), '720');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('site-policy-saved-390px');
  });
});
