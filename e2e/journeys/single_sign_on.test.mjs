// The demo products (issue 3's journey): sign up once, sign in to Tracker through Latchkey,
// open Wiki without a second login, sign out in Tracker and see Wiki signed out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LATCHKEY, TRACKER, WIKI, launch, journey, signUpAndVerify, assertLabelled } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const EMAIL = 'journey-sso@example.com';
const PASSWORD = 'another journey password';

test('one login serves Tracker and Wiki; signing out in one signs out the other', async () => {
  await journey(browser, 'single-sign-on', async (page, shot, context) => {
    await signUpAndVerify(page, shot, EMAIL, PASSWORD, 'Sam Journey');
    await page.getByRole('button', { name: 'Log out' }).first().click();
    await page.waitForURL(/\/logout/);

    await page.goto(`${TRACKER}/`);
    await shot('tracker-signed-out');
    await page.getByRole('link', { name: 'Sign in with Latchkey' }).click();
    await page.waitForURL(`${LATCHKEY}/login**`);
    await assertLabelled(page);
    await shot('latchkey-login');
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${TRACKER}/`);
    assert.match(await page.locator('#who').textContent(), /Signed in as Sam Journey/);
    await shot('tracker-signed-in');

    const wiki = await context.newPage();
    await wiki.goto(`${WIKI}/`);
    await wiki.getByRole('link', { name: 'Sign in with Latchkey' }).click();
    await wiki.waitForURL(`${WIKI}/`);
    assert.match(await wiki.locator('#who').textContent(), /Signed in as Sam Journey/, 'no second login');
    await wiki.screenshot({ path: `${process.env.E2E_SCREENSHOTS ?? 'screenshots'}/single-sign-on/wiki-signed-in.png` });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${TRACKER}/`);
    await shot('tracker-after-sign-out');
    // The back-channel logout reaches Wiki within moments.
    let text = '';
    for (let i = 0; i < 50 && !/not signed in/.test(text); i += 1) {
      await new Promise((r) => setTimeout(r, 200));
      await wiki.reload();
      text = await wiki.locator('#who').textContent();
    }
    assert.match(text, /not signed in/);
    await wiki.screenshot({ path: `${process.env.E2E_SCREENSHOTS ?? 'screenshots'}/single-sign-on/wiki-signed-out.png` });
  });
});
