// The site console as an operator uses it (issue 16): find an account, open its page, a
// destructive action that asks first, the audit log newest first, and a product registered
// with POST/redirect/GET (a reload registers nothing), the installation's own look set and
// undone. Screenshots at 1280 and 390 px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { LATCHKEY, launch, journey, signUpAndVerify, assertLabelled } from '../lib.mjs';

const BIN = process.env.E2E_LATCHKEY_BIN;
const ROOT = 'root@console-journey.test';
const MEMBER = 'casey@console-journey.test';
const PASSWORD = 'a console journey password';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function both(page, shot, name) {
  await shot(name);
  await page.setViewportSize({ width: 390, height: 844 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `${name}: the page is ${width} px wide at 390 px (tables scroll inside)`);
  await shot(`${name}-390px`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

test('a site admin finds an account, deactivates it after a confirmation, and reads the log', async () => {
  await journey(browser, 'site-console-member', async (page, shot) => {
    await signUpAndVerify(page, shot, MEMBER, PASSWORD, 'Casey Member');
  });
  await journey(browser, 'site-console', async (page, shot) => {
    await new Promise((resolve, reject) => {
      const child = execFile(BIN, ['user', 'create', '--email', ROOT, '--name', 'Console Root', '--verified', '--site-admin', '--password-stdin'], (err) => (err ? reject(err) : resolve()));
      child.stdin.end(`${PASSWORD}\n`);
    });
    await page.goto(`${LATCHKEY}/login`);
    await page.getByLabel('Email').fill(ROOT);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(/\/account/);

    await page.goto(`${LATCHKEY}/admin/users`);
    await assertLabelled(page);
    await page.getByLabel('Find accounts').fill('CASEY');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=CASEY/);
    assert.equal(await page.getByRole('link', { name: MEMBER, exact: true }).count(), 1);
    await both(page, shot, 'search');

    await page.getByRole('link', { name: MEMBER, exact: true }).click();
    await page.getByRole('heading', { name: /Casey Member/ }).waitFor();
    assert.match(await page.locator('main').textContent(), /Two-step verification\s*Off/);
    await both(page, shot, 'account-page');

    await page.getByRole('link', { name: 'Deactivate', exact: true }).click();
    await page.getByRole('heading', { name: `Deactivate ${MEMBER}?` }).waitFor();
    await both(page, shot, 'confirm');
    await page.getByRole('button', { name: 'Deactivate the account' }).click();
    await page.waitForURL(/notice=deactivated/);

    await page.goto(`${LATCHKEY}/admin/audit`);
    await assertLabelled(page);
    const newest = (await page.locator('tbody tr').allTextContents()).slice(0, 3).join(' ');
    assert.match(newest, /account\.deactivated/, 'newest first');
    await both(page, shot, 'audit-newest-first');

    // Register a product: the secret shows once, on the page the form redirects to.
    await page.goto(`${LATCHKEY}/admin/products`);
    await page.getByLabel('Name', { exact: true }).fill('Console Journey App');
    await page.getByLabel(/Redirect URIs/).fill('https://app.console-journey.test/callback');
    await page.getByRole('button', { name: /Register/ }).click();
    await page.waitForURL(/\/admin\/products\/created$/);
    assert.match(await page.locator('main').textContent(), /shown once/);
    await shot('product-created');
    await page.reload();
    await page.waitForURL(/\/admin\/products$/);
    assert.equal(await page.getByRole('cell', { name: /Console Journey App/ }).count(), 1, 'registered once');
    await both(page, shot, 'products');

    // Its page: a refused change keeps the form, a good one saves; a new secret after a
    // question, shown once; disable after a question; delete after a question.
    await page.getByRole('link', { name: 'Console Journey App' }).click();
    await page.waitForURL(/\/admin\/products\/[^/]+$/);
    await assertLabelled(page);
    await both(page, shot, 'product-page');
    await page.getByLabel(/Redirect URIs/).fill('http://plain-http.console-journey.test/cb');
    await page.getByRole('button', { name: 'Save' }).click();
    assert.match(await page.getByRole('alert').textContent(), /must use https/);
    await shot('product-refused-change');
    await page.getByLabel(/Redirect URIs/).fill('https://app.console-journey.test/callback\nhttps://app.console-journey.test/other');
    await page.getByLabel('Name', { exact: true }).fill('Console Journey Cloud');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/notice=saved/);
    await page.getByRole('link', { name: 'Issue a new secret' }).click();
    await shot('product-new-secret-question');
    await page.getByRole('button', { name: 'Issue a new secret' }).click();
    await page.waitForURL(/\/admin\/products\/created$/);
    assert.match(await page.locator('main').textContent(), /has a new secret/);
    await shot('product-new-secret');
    await page.getByRole('link', { name: /Settings of Console Journey Cloud/ }).click();
    await page.getByRole('link', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Disable the product' }).click();
    await page.waitForURL(/notice=disabled/);
    await both(page, shot, 'product-disabled');
    await page.getByRole('link', { name: 'Delete' }).click();
    assert.match(await page.locator('main').textContent(), /cannot be undone/);
    await both(page, shot, 'product-delete-question');
    await page.getByRole('button', { name: 'Delete the product' }).click();
    await page.waitForURL(/notice=deleted/);
    assert.equal(await page.getByRole('cell', { name: /Console Journey/ }).count(), 0, 'deleted');
  });
});

test('a site admin gives the installation its own name and colour, then goes back', async () => {
  await journey(browser, 'branding', async (page, shot) => {
    await page.goto(`${LATCHKEY}/login`);
    await page.getByLabel('Email').fill(ROOT);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.waitForURL(/\/account/);
    await page.goto(`${LATCHKEY}/admin/platform`);
    await assertLabelled(page);
    await page.getByLabel('Name', { exact: true }).fill('Acme ID');
    await page.getByLabel('Colour').fill('#eeeeee');
    await page.getByRole('button', { name: 'Save the look' }).click();
    assert.match(await page.getByRole('alert').textContent(), /too light/);
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Acme ID', 'what was typed stays');
    await shot('branding-refused');
    await page.getByLabel('Colour').fill('#6b21a8');
    await page.getByRole('button', { name: 'Save the look' }).click();
    await page.waitForURL(/notice=branding/);
    assert.match(await page.title(), /· Acme ID$/);
    assert.equal(await page.locator('header .brand').textContent(), 'Acme ID');
    const buttonColour = await page.getByRole('button', { name: 'Save the look' }).evaluate((b) => getComputedStyle(b).backgroundColor);
    assert.equal(buttonColour, 'rgb(107, 33, 168)', 'buttons take the brand colour');
    await both(page, shot, 'branding-saved');
    await page.goto(`${LATCHKEY}/account`);
    await both(page, shot, 'branding-account');

    await page.goto(`${LATCHKEY}/admin/platform`);
    await page.getByRole('link', { name: "Go back to Latchkey's look" }).click();
    await shot('branding-reset-question');
    await page.getByRole('button', { name: "Use Latchkey's look" }).click();
    await page.waitForURL(/notice=branding_reset/);
    assert.match(await page.title(), /· Latchkey$/);
    assert.equal(await page.getByRole('link', { name: "Go back to Latchkey's look" }).count(), 0);
  });
});

test('a person finds each part of their account on its own short page', async () => {
  await journey(browser, 'account-sections', async (page, shot) => {
    await signUpAndVerify(page, shot, 'sections@console-journey.test', PASSWORD, 'Sasha Sections');
    for (const [link, heading] of [['Email', 'Email address'], ['Password', 'Password'], ['Security', 'Security'], ['Sessions', "Where you're signed in"], ['Products', 'Your products'], ['Profile', 'Profile']]) {
      await page.getByRole('navigation', { name: 'Your account' }).getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      assert.equal(await page.getByRole('navigation', { name: 'Your account' }).locator('[aria-current="page"]').textContent(), link);
      await assertLabelled(page);
      await both(page, shot, `account-${link.toLowerCase()}`);
    }
  });
});
