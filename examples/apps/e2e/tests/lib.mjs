// Shared helpers of the end-to-end tests: a headless Chromium from the
// Debian package driven by playwright-core, and page helpers for the chat.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const CHAT_URL = need('CHAT_URL');
export const ARTIFACTS = process.env.ARTIFACTS || 'artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through e2e/run.sh`);
  return v;
}
export { need };

// launch starts Chromium headless. Playwright gives every launch a new,
// empty user-data-dir of its own and removes it on close; the other flags
// keep Chromium off the network, which this machine does not reach.
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    timeout: 30000,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

// openChat opens the chat page at base in a new browser context (its own
// cookies and storage: a separate user), enters as name into room and
// waits until the join is acknowledged.
export async function openChat(browser, base, name, room, { query = '', cookies = [] } = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 640 } });
  openContexts.add(context);
  if (cookies.length) await context.addCookies(cookies);
  const page = await context.newPage();
  page.on('pageerror', (err) => { page.jsErrors = (page.jsErrors || []).concat(err); });
  await page.goto(base + '/' + query);
  await page.fill('#name', name);
  await page.fill('#room', room);
  await page.click('#login button');
  await page.waitForFunction((r) => window.chatState.status === 'online' && window.chatState.rooms.get(r)?.joined, room, { timeout: 10000 });
  return page;
}

// closeAll closes the contexts openChat opened, so that a failed test
// leaves no user connected for the next one.
const openContexts = new Set();
export async function closeAll() {
  await Promise.all([...openContexts].map((c) => c.close().catch(() => {})));
  openContexts.clear();
}

// say types text into the message box and sends it, waiting for the ack.
export async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
  await page.waitForFunction(() => !document.querySelector('#messages .pending'), null, { timeout: 10000 });
}

// messageTexts returns the texts of the room messages shown.
export async function messageTexts(page) {
  return page.$$eval('#messages li[data-id] .text', (els) => els.map((e) => e.textContent));
}

export async function waitForMessage(page, text, timeout = 10000) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('#messages li[data-id] .text')].some((e) => e.textContent === t),
    text, { timeout });
}

export function shot(page, name) {
  return page.screenshot({ path: join(ARTIFACTS, name), fullPage: false });
}

export function uniqueRoom(prefix) {
  return `${prefix}-${Date.now().toString(36)}`;
}
