// API tokens (issue 13's journey): a person creates an API token on the security page,
// restricted to Tracker, copies it from the page that shows it once, and a script calls
// Tracker's REST API with it as basic auth (Tracker asks Latchkey). Then the person revokes it,
// confirming first, and the same call is refused. A site admin then makes a bot and its token
// in the console.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LATCHKEY, TRACKER, WIKI, launch, journey, signUpAndVerify, assertLabelled } from '../lib.mjs';

const BIN = process.env.E2E_LATCHKEY_BIN;
const PERSON = 'tomas@tokens-journey.test';
const PASSWORD = 'token journey password 2026';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function latchkey(...args) {
  const { stdout } = await promisify(execFile)(BIN, [...args, '--json'], { encoding: 'utf8' });
  return JSON.parse(stdout);
}

/// What a script does: GET the product's REST endpoint with basic auth.
async function whoami(product, user, pass) {
  const auth = Buffer.from(`${user}:${pass}`).toString('base64');
  const r = await fetch(`${product}/rest/api/whoami`, { headers: { Authorization: `Basic ${auth}` } });
  return { status: r.status, body: await r.json() };
}

test('a person makes a token for a script, the product accepts it, and revoking it ends it', async () => {
  await journey(browser, 'api-tokens-person', async (page, shot) => {
    await signUpAndVerify(page, async () => {}, PERSON, PASSWORD, 'Tomas Script');
    await page.goto(`${LATCHKEY}/account/security`);
    await assertLabelled(page);
    await page.getByRole('heading', { name: 'API tokens' }).scrollIntoViewIfNeeded();
    await page.getByLabel('Name for a new token').fill('nightly export');
    await page.getByLabel('Expires after … days').fill('90');
    await page.getByLabel('Tracker').check();
    await shot('security-form');
    await page.getByRole('button', { name: 'Create API token' }).click();
    await page.getByRole('heading', { name: 'Your new API token' }).waitFor();
    await assertLabelled(page);
    const token = await page.getByLabel(/API token/).inputValue();
    assert.match(token, /^lkp_[A-Za-z0-9_-]{43}$/);
    assert.match(page.url(), /\/api-tokens\/created$/, 'POST, then redirect: a reload creates nothing');
    assert.ok(await page.getByRole('button', { name: 'Copy' }).isVisible(), 'the copy button shows with JavaScript');
    await shot('shown-once');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('shown-once-390px');
    await page.setViewportSize({ width: 1280, height: 800 });

    const ok = await whoami(TRACKER, PERSON, token);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.email, PERSON);
    assert.equal(ok.body.credential, 'api_token');
    const elsewhere = await whoami(WIKI, PERSON, token);
    assert.deepEqual([elsewhere.status, elsewhere.body.error], [401, 'wrong_product']);

    // A reload of the page that showed it shows it no more (and creates nothing).
    await page.reload();
    await page.waitForURL(/\/account\/security/);
    assert.ok(!(await page.content()).includes(token), 'shown once');
    assert.equal(await page.locator('tr', { hasText: 'nightly export' }).count(), 1, 'one token, not two');
    const row = page.locator('tr', { hasText: 'nightly export' });
    assert.match(await row.textContent(), /Tracker/);
    assert.ok(!(await page.content()).includes(token), 'never shown again');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('security-list-390px');
    await page.setViewportSize({ width: 1280, height: 800 });

    await row.getByRole('link', { name: /Revoke/ }).click();
    await page.getByRole('heading', { name: /Revoke .nightly export./ }).waitFor();
    await shot('confirm-revoke');
    assert.equal((await whoami(TRACKER, PERSON, token)).status, 200, 'the confirmation page changes nothing');
    await page.getByRole('button', { name: 'Revoke token' }).click();
    await page.getByText('The API token was revoked').waitFor();
    await shot('revoked');
    const refused = await whoami(TRACKER, PERSON, token);
    assert.deepEqual([refused.status, refused.body.error], [401, 'revoked']);
  });
});

test('a site admin makes a bot and its token in the console', async () => {
  await journey(browser, 'api-tokens-bots', async (page, shot) => {
    // A site admin, made with the CLI as an operator would.
    const ops = 'ops@tokens-journey.test';
    const child = execFile(BIN, ['user', 'create', '--email', ops, '--site-admin', '--verified', '--password-stdin']);
    child.stdin.end(`${PASSWORD}\n`);
    await new Promise((resolve) => child.on('exit', resolve));
    await page.goto(`${LATCHKEY}/login`);
    await page.getByLabel('Email').fill(ops);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(/\/account/);

    await page.goto(`${LATCHKEY}/admin`);
    await page.getByRole('link', { name: 'Bots' }).click();
    await page.waitForURL(`${LATCHKEY}/admin/bots`);
    await assertLabelled(page);
    await page.getByLabel('Add a bot').fill('Release robot');
    await page.getByRole('button', { name: 'Add bot' }).click();
    await page.getByText('The bot was created').waitFor();
    const username = (await page.locator('tr', { hasText: 'Release robot' }).locator('code').textContent()).trim();
    assert.match(username, /^release-robot-[0-9a-f]{8}@bots\.invalid$/);
    await shot('bot-created');
    await page.getByLabel(/New token for/).fill(username);
    await page.getByLabel('Token name').fill('deploys');
    await page.getByRole('button', { name: 'Create API token' }).click();
    const token = await page.getByLabel(/API token/).inputValue();
    await shot('bot-token');
    const ok = await whoami(TRACKER, username, token);
    assert.deepEqual([ok.status, ok.body.email], [200, username]);
    await page.goto(`${LATCHKEY}/admin/bots`);
    await page.setViewportSize({ width: 390, height: 844 });
    await shot('bots-390px');
    const listed = await latchkey('api-token', 'list', '--email', username);
    assert.equal(listed.tokens.length, 1);
  });
});
