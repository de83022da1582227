// The dashboard example in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { need, launch, shot } from './lib.mjs';

const DASH_URL = need('DASH_URL');

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the dashboard shows live updates, and the updates a stalled page lost', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 560 } });
  const page = await context.newPage();
  await page.goto(DASH_URL + '/');
  await page.waitForFunction(() => window.dashState.received >= 20, null, { timeout: 10000 });
  const s = await page.evaluate(() => ({ ...window.dashState }));
  assert.equal(s.policy, 'coalesce');
  assert.equal(s.gaps, 0, 'a page that keeps up sees every update');
  for (const m of ['cpu', 'memory', 'requests', 'latency']) {
    assert.match(await page.textContent(`.tile[data-metric="${m}"] .big span`), /^\d+\.\d$/);
  }
  await page.waitForFunction(() => document.querySelector('#dropped').textContent === '0', null, { timeout: 5000 });

  // Stall every subscriber's writer for 1.5 s: at 20 updates a second its
  // queue of 16 overflows and the policy merges the queued updates.
  const res = await fetch(DASH_URL + '/debug/stall?ms=1500', { method: 'POST' });
  assert.equal(res.status, 200);
  await page.waitForFunction(() => window.dashState.dropped > 0, null, { timeout: 10000 });
  // The server's count and the gaps the page saw in the sequence agree.
  await page.waitForFunction(() => window.dashState.gaps === window.dashState.dropped, null, { timeout: 5000 });
  const after = await page.evaluate(() => ({ ...window.dashState }));
  assert.ok(after.dropped >= 5, `dropped ${after.dropped}`);
  assert.equal(await page.textContent('#dropped'), String(after.dropped));
  await page.waitForTimeout(600); // let the sparklines move on
  await shot(page, 'dashboard.png');
  await context.close();
});
