// Organizations (issue 5's journey): an org admin verifies the company's domain through a DNS
// TXT record (served by a DNS server started here, which Latchkey is pointed at), sees the
// managed accounts with the products they use, deactivates one — and that person, signed in
// in another browser, is signed out at their next request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { LATCHKEY, TRACKER, launch, journey, startDns, signUpAndVerify, assertLabelled } from '../lib.mjs';

const BIN = process.env.E2E_LATCHKEY_BIN;
const DOMAIN = 'acme-journey.test';
const ADMIN = `ada@${DOMAIN}`;
const WORKER = `bob@${DOMAIN}`;
const PASSWORD = 'organization journey password';

/// TXT records by name; every other name has no records.
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

/// The CLI on the same database as the running server (the environment run.sh exported).
function latchkey(...args) {
  return JSON.parse(execFileSync(BIN, [...args, '--json'], { encoding: 'utf8' }));
}

test('an org admin verifies the domain and deactivates a managed account, who is signed out at once', async () => {
  // Bob works at Acme: signed up, using Tracker, still signed in in his own browser.
  const bobContext = await browser.newContext();
  const bob = await bobContext.newPage();
  await signUpAndVerify(bob, async () => {}, WORKER, PASSWORD, 'Bob Worker');
  await bob.goto(`${TRACKER}/`);
  await bob.getByRole('link', { name: 'Sign in with Latchkey' }).click();
  await bob.waitForURL(`${TRACKER}/`);
  assert.match(await bob.locator('#who').textContent(), /Signed in as Bob Worker/);

  await journey(browser, 'org-console', async (page, shot) => {
    await signUpAndVerify(page, shot, ADMIN, PASSWORD, 'Ada Admin');
    const org = latchkey('org', 'create', '--name', 'Acme', '--admin', ADMIN).org_id;
    await page.goto(`${LATCHKEY}/account`);
    await page.getByRole('link', { name: 'Acme' }).click();
    await page.waitForURL(`${LATCHKEY}/admin/org/${org}`);
    await assertLabelled(page);
    await shot('console');

    await page.getByLabel('Add a domain').fill(DOMAIN.toUpperCase());
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.waitForURL(/notice=domain_added/);
    const record = await page.locator('code', { hasText: 'latchkey-verification=' }).first().textContent();
    assert.match(record, /^latchkey-verification=\S+$/);
    await shot('domain-added');

    // The first check finds nothing; then the record is published and the check passes.
    await page.getByRole('button', { name: `Verify ${DOMAIN}` }).click();
    await page.waitForURL(/notice=not_verified/);
    assert.match(await page.locator('table').first().textContent(), /pending/);
    await shot('not-verified-yet');
    txt.set(DOMAIN, [record]);
    await page.getByRole('button', { name: `Verify ${DOMAIN}` }).click();
    await page.waitForURL(/notice=verified/);
    await page.getByText('The domain is verified.').waitFor();
    assert.match(await page.locator('table').first().textContent(), /verified\s*by its DNS TXT record/);

    // Both people on the domain are managed now; Bob's row shows where he works.
    const bobRow = page.getByRole('row', { name: new RegExp(WORKER) });
    await bobRow.waitFor();
    assert.match(await bobRow.textContent(), /Tracker/, 'the products Bob used');
    assert.match(await bobRow.textContent(), /active/);
    await shot('managed-accounts');

    // Destructive actions ask first, on their own page.
    await page.getByRole('link', { name: `Deactivate ${WORKER}` }).click();
    await page.getByRole('heading', { name: `Deactivate ${WORKER}?` }).waitFor();
    await shot('confirm-deactivate');
    await page.getByRole('button', { name: 'Deactivate the account' }).click();
    await page.waitForURL(/notice=deactivated/);
    assert.match(await page.getByRole('row', { name: new RegExp(WORKER) }).textContent(), /deactivated/);
    await shot('deactivated');

    // The audit log tells the story.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(`${LATCHKEY}/admin/org/${org}/audit`);
    const log = await page.locator('table').textContent();
    for (const event of ['domain.added', 'domain.verified', 'account.deactivated']) assert.match(log, new RegExp(event.replace('.', '\\.')));
    await shot('audit-log');
  });

  // Bob's next request in his open browser finds him signed out.
  await bob.goto(`${LATCHKEY}/account`);
  await bob.waitForURL(/\/login/);
  await bob.screenshot({ path: `${process.env.E2E_SCREENSHOTS ?? 'screenshots'}/org-console/bob-signed-out.png`, fullPage: true });
  await bob.getByLabel('Email').fill(WORKER);
  await bob.getByLabel('Password').fill(PASSWORD);
  await bob.getByRole('button', { name: 'Log in' }).click();
  await bob.getByText(/deactivated/i).first().waitFor();
  await bob.screenshot({ path: `${process.env.E2E_SCREENSHOTS ?? 'screenshots'}/org-console/bob-cannot-log-in.png`, fullPage: true });
  await bobContext.close();
});
