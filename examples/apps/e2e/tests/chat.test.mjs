// The chat example in headless Chromium, against one chat process.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { CHAT_URL, launch, openChat, say, messageTexts, waitForMessage, shot, uniqueRoom, closeAll } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
afterEach(closeAll);
after(async () => { await browser?.close(); });

test('two pages join a room and exchange messages', async () => {
  const room = uniqueRoom('lobby');
  const alice = await openChat(browser, CHAT_URL, 'alice', room);
  const bob = await openChat(browser, CHAT_URL, 'bob', room);

  // Presence: alice is told bob joined, and both see each other online.
  await alice.waitForSelector(`#messages .note >> text=bob joined`, { timeout: 5000 });
  for (const p of [alice, bob]) {
    await p.waitForFunction(() => ['alice', 'bob'].every((n) => document.querySelector(`#users li[data-user="${n}"]`)), null, { timeout: 5000 });
  }

  await say(alice, 'hello bob');
  await waitForMessage(bob, 'hello bob');
  await say(bob, 'hi alice');
  await waitForMessage(alice, 'hi alice');
  assert.deepEqual(await messageTexts(alice), ['hello bob', 'hi alice']);
  assert.deepEqual(await messageTexts(bob), ['hello bob', 'hi alice']);

  // The room list shows the room with its two members.
  await alice.waitForFunction((r) => document.querySelector(`#rooms li[data-room="${r}"] .count`)?.textContent === '2', room, { timeout: 5000 });

  // Markup is shown as text, never interpreted.
  const evil = '<img src=x onerror="window.pwned=1"><b>bold</b>';
  await say(alice, evil);
  await waitForMessage(bob, evil);
  assert.equal(await bob.$$eval('#messages img, #messages b', (els) => els.length), 0);
  assert.equal(await bob.evaluate(() => window.pwned), undefined);

  // A third user joining later gets the history.
  const carol = await openChat(browser, CHAT_URL, 'carol', room);
  await waitForMessage(carol, 'hi alice');
  assert.deepEqual(await messageTexts(carol), ['hello bob', 'hi alice', evil]);

  for (const p of [alice, bob, carol]) assert.equal(p.jsErrors, undefined, 'no JavaScript errors');
});

test('a private message reaches only its target', async () => {
  const room = uniqueRoom('dm');
  const alice = await openChat(browser, CHAT_URL, 'alice2', room);
  const bob = await openChat(browser, CHAT_URL, 'bob2', room);
  const carol = await openChat(browser, CHAT_URL, 'carol2', room);

  await alice.click('#users li[data-user="bob2"]');
  await alice.waitForSelector('#target:not([hidden])');
  await alice.fill('#text', 'only for bob');
  await alice.press('#text', 'Enter');

  await bob.waitForFunction(() => [...document.querySelectorAll('#private li')].some((li) => li.textContent.includes('only for bob')), null, { timeout: 5000 });
  assert.match(await bob.textContent('#private'), /alice2 → you\s*only for bob/);
  await alice.waitForFunction(() => document.querySelector('#private').textContent.includes('you → bob2'), null, { timeout: 5000 });

  // Give a stray delivery time to arrive, then check carol saw nothing,
  // neither privately nor in the room.
  await say(bob, 'room message after the private one');
  await waitForMessage(carol, 'room message after the private one');
  assert.equal(await carol.evaluate(() => window.chatState.privateCount), 0);
  assert.equal(await carol.textContent('#private'), '');
  assert.ok(!(await messageTexts(carol)).includes('only for bob'));
  assert.ok(!(await messageTexts(bob)).includes('only for bob'), 'the private message is not in the room');

});

test('the typing indicator appears and clears', async () => {
  const room = uniqueRoom('typing');
  const alice = await openChat(browser, CHAT_URL, 'alice3', room);
  const bob = await openChat(browser, CHAT_URL, 'bob3', room);

  await alice.click('#text');
  await alice.keyboard.type('I am wri', { delay: 30 });
  await bob.waitForFunction(() => document.querySelector('#typing').textContent === 'alice3 is typing…', null, { timeout: 5000 });
  assert.equal(await alice.textContent('#typing'), '', 'no indicator for oneself');
  await shot(bob, 'chat-typing.png');

  await alice.keyboard.type('ting', { delay: 30 });
  await alice.press('#text', 'Enter');
  await waitForMessage(bob, 'I am writing');
  await bob.waitForFunction(() => document.querySelector('#typing').textContent === '', null, { timeout: 5000 });

});

test('a page whose connection the server kills reconnects and recovers missed messages', async () => {
  const room = uniqueRoom('recover');
  const alice = await openChat(browser, CHAT_URL, 'alice4', room);
  // A longer backoff base (first retry after 6-12 s) leaves time to
  // send three acknowledged messages while bob is away, even on a loaded
  // CI machine (at 2-4 s a loaded run once reconnected first).
  const bob = await openChat(browser, CHAT_URL, 'bob4', room, { query: '?backoff=12000' });
  await say(alice, 'before');
  await waitForMessage(bob, 'before');

  // The server drops bob's TCP connection without a close frame.
  const res = await fetch(CHAT_URL + '/debug/kick?name=bob4', { method: 'POST' });
  assert.equal((await res.text()).trim(), '1');
  await bob.waitForFunction(() => window.chatState.status === 'offline', null, { timeout: 5000 });
  assert.match(await bob.textContent('#status'), /connection lost, reconnecting in/);

  for (const t of ['missed 1', 'missed 2', 'missed 3']) await say(alice, t);
  assert.equal(await bob.evaluate(() => window.chatState.status), 'offline',
    'bob reconnected before the messages were sent; the test would not show recovery');

  await bob.waitForFunction(() => window.chatState.status === 'online', null, { timeout: 20000 });
  await waitForMessage(bob, 'missed 3');
  assert.deepEqual(await messageTexts(bob), ['before', 'missed 1', 'missed 2', 'missed 3']);
  const st = await bob.evaluate(() => ({ recovered: window.chatState.recovered, reconnects: window.chatState.reconnects }));
  assert.equal(st.recovered, 3, 'the three messages came from the recovery, by last seen id');
  assert.equal(st.reconnects, 1);
  await bob.waitForSelector('#messages .note >> text=recovered 3 messages sent while you were away');

  // The conversation goes on after the reconnect.
  await say(bob, 'back');
  await waitForMessage(alice, 'back');
  await shot(bob, 'chat-recovered.png');

});

test('screenshot of a chat in use', async () => {
  const room = 'general';
  const alice = await openChat(browser, CHAT_URL, 'alice5', room);
  const bob = await openChat(browser, CHAT_URL, 'bob5', room);
  await say(alice, 'Morning! Did the deploy go out?');
  await say(bob, 'Yes, 10 minutes ago. Dashboards look green.');
  await say(alice, 'Great, thanks <3');
  await bob.click('#users li[data-user="alice5"]');
  await bob.fill('#text', 'lunch at 12?');
  await bob.press('#text', 'Enter');
  await alice.waitForFunction(() => document.querySelector('#private').textContent.includes('lunch at 12?'), null, { timeout: 5000 });
  await bob.click('#target');
  await bob.click('#text');
  await bob.keyboard.type('typing something', { delay: 20 });
  await alice.waitForFunction(() => document.querySelector('#typing').textContent.includes('bob5 is typing'), null, { timeout: 5000 });
  await shot(alice, 'chat.png');
});
