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
