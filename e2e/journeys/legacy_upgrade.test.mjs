// The legacy upgrade (issue 14's journey): Tracker's own users are imported with their old
// bcrypt hashes and Tracker moves to `upgrading`. Someone who never had a Latchkey account
// signs in to Tracker through Latchkey with the password they always had, sees the upgrade
// screen, verifies the address from the mail, and arrives in Tracker signed in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LATCHKEY, TRACKER, launch, journey, mailLink, assertLabelled } from '../lib.mjs';

const BIN = process.env.E2E_LATCHKEY_BIN;
const PERSON = 'ruth@legacy-journey.test';
// A real bcrypt hash of this password, made by Python's bcrypt (see make_fixtures.py).
const PASSWORD = 'correct horse battery staple';
const HASH = '$2b$04$yrNbPCmYgAXB0mprjXNTtu7WhCwbzVQzvt1evClx.VfGp5w4xIHiO';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function latchkey(...args) {
  const { stdout } = await promisify(execFile)(BIN, [...args, '--json'], { encoding: 'utf8' });
  return JSON.parse(stdout);
}

test('a Tracker user keeps their password and becomes a Latchkey account', async () => {
  const tracker = (await latchkey('client', 'list')).clients.find((c) => c.name === 'Tracker');
  const file = join(mkdtempSync(join(tmpdir(), 'legacy-')), 'tracker-users.jsonl');
  writeFileSync(file, JSON.stringify({ legacy_id: 'TRK-4711', username: 'ruth', email: PERSON, name: 'Ruth Legacy', password_hash: HASH }) + '\n');
  const report = await latchkey('client', 'import', '--client', tracker.client_id, file);
  assert.equal(report.imported, 1);
  await latchkey('client', 'rollout', '--client', tracker.client_id, '--state', 'upgrading');

  await journey(browser, 'legacy-upgrade', async (page, shot) => {
    await page.goto(`${LATCHKEY}/status`);
    assert.match(await page.locator('table').textContent(), /Tracker/);
    await shot('status');
    await page.goto(`${TRACKER}/`);
    await page.getByRole('link', { name: 'Sign in with Latchkey' }).click();
    await assertLabelled(page);
    await page.getByLabel('Email').fill(PERSON);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.getByRole('heading', { name: 'Your Tracker account is now a Latchkey account' }).waitFor();
    await assertLabelled(page);
    await shot('upgraded');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('upgraded-390px');
    await page.setViewportSize({ width: 1280, height: 800 });

    // The address is proven from the mail; then "Continue" finishes the sign-in to Tracker.
    const link = await mailLink(PERSON, '/verify-email');
    const verify = await page.context().newPage();
    await verify.goto(link);
    await verify.getByRole('button', { name: /verify/i }).click();
    await verify.close();
    await page.getByRole('link', { name: 'Continue' }).click();
    await page.waitForURL(`${TRACKER}/`);
    assert.match(await page.locator('body').textContent(), /Ruth Legacy|ruth@legacy-journey\.test/);
    await shot('in-tracker');
    const status = await latchkey('client', 'legacy', 'status', '--client', tracker.client_id);
    assert.equal(status.upgraded, 1);
  });
});

test('a site admin uploads Wiki users in the console; the person picks their Wiki account', async () => {
  const ops = 'ops@legacy-journey.test';
  const child = execFile(BIN, ['user', 'create', '--email', ops, '--site-admin', '--verified', '--password-stdin']);
  child.stdin.end(`${PASSWORD}\n`);
  await new Promise((resolve) => child.on('exit', resolve));
  const wiki = (await latchkey('client', 'list')).clients.find((c) => c.name === 'Wiki');
  // Ruth (upgraded above with Tracker) had two Wiki accounts at her address, and many
  // colleagues: a file large enough for the progress display to move.
  const lines = [
    { legacy_id: 'W-1', username: 'ruth', email: PERSON, name: 'Ruth (old)', password_hash: HASH },
    { legacy_id: 'W-2', username: 'ruth.l', email: PERSON, name: 'Ruth Legacy', password_hash: HASH },
  ];
  for (let i = 0; i < 20000; i++) {
    lines.push({ legacy_id: `X-${i}`, username: `user${i}`, email: `user${i}@legacy-journey.test`, name: `User ${i}`, password_hash: HASH });
  }
  const file = join(mkdtempSync(join(tmpdir(), 'legacy-')), 'wiki-users.jsonl');
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\nnot json\n');

  await journey(browser, 'legacy-console', async (page, shot) => {
    await page.goto(`${LATCHKEY}/login`);
    await page.getByLabel('Email').fill(ops);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(/\/account/);
    await page.goto(`${LATCHKEY}/admin/products`);
    await page.locator('tr', { hasText: 'Wiki' }).getByRole('link', { name: 'Import users' }).click();
    await page.waitForURL(`${LATCHKEY}/admin/products/${wiki.client_id}/legacy`);
    await assertLabelled(page);
    await shot('product-legacy');
    await page.getByLabel('File').setInputFiles(file);
    await page.getByRole('button', { name: 'Import' }).click();
    await page.waitForURL(/\/legacy\/imports\//, { timeout: 60000 });
    const summary = await page.locator('.notice').textContent();
    assert.match(summary, /20002 imported, 0 updated, 0 unchanged, 1 skipped/);
    await shot('import-result');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('import-result-390px');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${LATCHKEY}/admin/products/${wiki.client_id}/legacy`);
    await page.getByLabel('Rollout state').selectOption('upgrading');
    await page.getByRole('button', { name: 'Change the state' }).click();
    await page.getByText('The rollout state was changed.').waitFor();
    await shot('rollout-upgrading');
  });

  await journey(browser, 'legacy-services', async (page, shot) => {
    await page.goto(`${LATCHKEY}/login`);
    await page.getByLabel('Email').fill(PERSON);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(/\/account/);
    await page.getByRole('link', { name: 'Your products' }).click();
    await page.waitForURL(`${LATCHKEY}/account/services`);
    await assertLabelled(page);
    // Her sign-in linked the first Wiki account at her address.
    assert.match(await page.locator('tr', { hasText: 'Wiki' }).textContent(), /W-1/);
    await shot('services');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('services-390px');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('link', { name: 'Change account for Wiki' }).click();
    await assertLabelled(page);
    await shot('change-account');
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByText('we sent it a link').waitFor();
    const link = await mailLink(PERSON, '/account/services/confirm');
    await page.goto(link);
    await assertLabelled(page);
    await page.getByLabel(/ruth\.l/).check();
    await shot('choose-account');
    await page.getByRole('button', { name: 'Use this account' }).click();
    await page.getByText('the product now sees the account you chose').waitFor();
    assert.match(await page.locator('tr', { hasText: 'Wiki' }).textContent(), /W-2/);
    await shot('account-changed');
  });
});
