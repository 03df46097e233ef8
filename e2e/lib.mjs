// Shared helpers for the browser journeys: Debian's Chromium through playwright-core (never a
// downloaded browser), step screenshots, mail from the outbox folder, TOTP codes, and a basic
// accessibility check.
import { chromium } from 'playwright-core';
import dns2 from 'dns2';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const AXE = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'node_modules/axe-core/axe.min.js'), 'utf8');

export const LATCHKEY = process.env.E2E_LATCHKEY;
export const TRACKER = process.env.E2E_TRACKER;
export const WIKI = process.env.E2E_WIKI;
const OUTBOX = process.env.E2E_OUTBOX;
const SHOTS = process.env.E2E_SCREENSHOTS ?? 'screenshots';

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

/// Runs `steps(page, shot)` in a fresh browser context; every `shot(name)` saves a numbered
/// screenshot under screenshots/<journey>/, and a failure saves one of where it stopped.
export async function journey(browser, name, steps) {
  const dir = join(SHOTS, name);
  mkdirSync(dir, { recursive: true });
  const context = await browser.newContext();
  const page = await context.newPage();
  let n = 0;
  const shot = async (step) => {
    n += 1;
    await page.screenshot({ path: join(dir, `${String(n).padStart(2, '0')}-${step}.png`), fullPage: true });
    await assertAccessible(page, `${name}/${step}`);
  };
  try {
    await steps(page, shot, context);
  } catch (e) {
    await page.screenshot({ path: join(dir, `FAILED-after-${String(n).padStart(2, '0')}.png`), fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await context.close();
  }
}

function decodeQuotedPrintable(text) {
  return text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/// The newest link under `path` in a mail to `to`, waiting for it to arrive.
export async function mailLink(to, path) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const files = existsSync(OUTBOX) ? readdirSync(OUTBOX).filter((f) => f.endsWith('.eml')).sort() : [];
    for (const f of files.reverse()) {
      const mail = decodeQuotedPrintable(readFileSync(join(OUTBOX, f), 'utf8'));
      if (!new RegExp(`^To: .*${to.replace(/[.@]/g, '\\$&')}`, 'mi').test(mail)) continue;
      const match = mail.match(new RegExp(`(https?://[^\\s"<>]*${path}[^\\s"<>]*)`));
      if (match) return match[1];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} with a ${path} link`);
}

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/// RFC 6238 (SHA-1, 6 digits, 30 s) at `unixSeconds`, computed here from the shown secret.
export function totp(secretBase32, unixSeconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32Decode(secretBase32)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

/// axe-core (WCAG 2.x A and AA rules) on a Latchkey page: no serious or critical violation.
/// Pages of the demo products and of the test IdP are not ours and are skipped.
export async function assertAccessible(page, where = page.url()) {
  if (!page.url().startsWith(LATCHKEY)) return;
  let timer;
  const limit = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`axe-core did not finish at ${where}`)), 20_000); });
  const check = async () => {
    // `;0`: the script's own completion value (axe's objects) is never sent back to Node —
    // serializing it could take forever.
    await page.evaluate(`${AXE};0`);
    return page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
    });
  };
  const violations = await Promise.race([limit, check()]).finally(() => clearTimeout(timer));
  assert.deepEqual(violations, [], `accessibility violations at ${where} (${page.url()})`);
}

/// Every visible form control has a label (a <label>, aria-label or aria-labelledby).
export async function assertLabelled(page) {
  const unlabelled = await page.$$eval('input:not([type=hidden]):not([hidden]), select, textarea', (els) =>
    els
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')))
      .map((el) => el.outerHTML));
  assert.deepEqual(unlabelled, [], `unlabelled controls on ${page.url()}`);
}

/// Signs up `email` and verifies it through the mailed link; the page ends signed in.
export async function signUpAndVerify(page, shot, email, password, name = 'Test Person') {
  await page.goto(`${LATCHKEY}/signup`);
  await assertLabelled(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await shot('signup-form');
  await page.getByRole('button', { name: /sign up|create/i }).click();
  await shot('check-your-email');
  await page.goto(await mailLink(email, '/verify-email'));
  await shot('verify-email');
  await page.getByRole('button', { name: /verify/i }).click();
  await page.waitForURL(/\/account/);
  await shot('account');
}

/// A DNS server on 127.0.0.1:E2E_DNS_PORT (the one Latchkey is pointed at) answering TXT
/// questions from `txt` (name -> values); every other name has no records. Returns the server
/// (close it when done).
export async function startDns(txt) {
  const { Packet } = dns2;
  const server = dns2.createUDPServer((request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    if (question?.type === Packet.TYPE.TXT) {
      for (const value of txt.get(question.name.toLowerCase()) ?? []) {
        response.answers.push({ name: question.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 60, data: value });
      }
    }
    send(response);
  });
  await server.listen(Number(process.env.E2E_DNS_PORT), '127.0.0.1');
  return server;
}
