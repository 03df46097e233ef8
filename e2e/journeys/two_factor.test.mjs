// Sign up → verify via the mail link → log in → enrol TOTP (codes computed from the shown
// secret) → log out → log in with TOTP → log out → log in with a recovery code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LATCHKEY, launch, journey, signUpAndVerify, totp, assertLabelled } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const EMAIL = 'journey-2fa@example.com';
const PASSWORD = 'a long journey password';

async function logOut(page) {
  await page.goto(`${LATCHKEY}/account`);
  await page.getByRole('button', { name: 'Log out' }).first().click();
  await page.waitForURL(/\/logout/);
}

/// The login form completed with the keyboard only: Tab to each field, Enter to submit.
async function logInWithKeyboard(page) {
  await page.goto(`${LATCHKEY}/login`);
  await assertLabelled(page);
  await page.locator('body').focus();
  await page.getByLabel('Email').focus();
  await page.keyboard.type(EMAIL);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/login\/second-factor/);
}

test('two-step verification with an authenticator app and a recovery code', async () => {
  await journey(browser, 'two-factor', async (page, shot) => {
    await signUpAndVerify(page, shot, EMAIL, PASSWORD);

    await page.getByRole('link', { name: 'Manage' }).click();
    await assertLabelled(page);
    await shot('security-off');
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await assertLabelled(page);
    await shot('enrol-qr');
    const secret = (await page.locator('#totp-secret').textContent()).replace(/\s+/g, '');
    await page.getByLabel(/6-digit code/).fill(totp(secret));
    await page.getByRole('button', { name: /turn on/i }).click();
    const codes = await page.locator('#recovery-codes code').allTextContents();
    assert.equal(codes.length, 10);
    await shot('recovery-codes');

    await logOut(page);
    await logInWithKeyboard(page);
    await assertLabelled(page);
    await shot('second-factor');
    // The enrolment used this step's code; the next step's is within the accepted skew.
    await page.getByLabel(/authenticator app/).fill(totp(secret, Date.now() / 1000 + 30));
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/account$/);
    await shot('signed-in-with-totp');
    assert.match(await page.locator('main').textContent(), /Two-step verification:\s*On/);

    await logOut(page);
    await logInWithKeyboard(page);
    await page.getByLabel(/authenticator app/).fill(codes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(/\/account$/);
    await shot('signed-in-with-recovery-code');

    await logOut(page);
    await logInWithKeyboard(page);
    await page.getByLabel(/authenticator app/).fill(codes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await assert.doesNotReject(page.getByRole('alert').waitFor());
    assert.match(await page.getByRole('alert').textContent(), /not valid/);
    await shot('recovery-code-used-up');
  });
});
