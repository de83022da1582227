// Two chat processes behind nginx, sharing rooms through redis-server.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { need, launch, openChat, say, messageTexts, waitForMessage, shot, uniqueRoom, closeAll } from './lib.mjs';

const NGINX_URL = need('NGINX_URL');
const CHAT_A = need('CHAT_A_ADDR'); // host:port of each process, as nodes name themselves
const CHAT_B = need('CHAT_B_ADDR');

let browser;
before(async () => { browser = await launch(); });
afterEach(closeAll);
after(async () => { await browser?.close(); });

// nginx routes by this cookie (see nginx.conf.tmpl); without it, it
// spreads clients over both processes.
const via = (node) => ({ cookies: [{ name: 'chat_node', value: node, url: NGINX_URL }] });

test('a message sent through one chat process reaches a browser connected through the other', async () => {
  const room = uniqueRoom('cluster');
  const alice = await openChat(browser, NGINX_URL, 'alice6', room, via('a'));
  const bob = await openChat(browser, NGINX_URL, 'bob6', room, via('b'));

  // Each page really is served by a different process, through nginx.
  const nodeA = await alice.evaluate(() => window.chatState.node);
  const nodeB = await bob.evaluate(() => window.chatState.node);
  assert.ok(nodeA.startsWith(CHAT_A + '/'), `alice's process ${nodeA} is not ${CHAT_A}`);
  assert.ok(nodeB.startsWith(CHAT_B + '/'), `bob's process ${nodeB} is not ${CHAT_B}`);

  // Presence and the online list cross processes.
  await alice.waitForSelector('#messages .note >> text=bob6 joined', { timeout: 5000 });
  await bob.waitForSelector('#users li[data-user="alice6"]', { timeout: 10000 });

  await say(alice, 'through process A');
  await waitForMessage(bob, 'through process A');
  await say(bob, 'through process B');
  await waitForMessage(alice, 'through process B');
  assert.deepEqual(await messageTexts(alice), ['through process A', 'through process B']);
  assert.deepEqual(await messageTexts(bob), ['through process A', 'through process B']);

  // A private message crosses too.
  await bob.click('#users li[data-user="alice6"]');
  await bob.fill('#text', 'private across processes');
  await bob.press('#text', 'Enter');
  await alice.waitForFunction(() => document.querySelector('#private').textContent.includes('private across processes'), null, { timeout: 5000 });

  // The history is shared: a newcomer on either process gets both messages.
  const carol = await openChat(browser, NGINX_URL, 'carol6', room, via('a'));
  const dave = await openChat(browser, NGINX_URL, 'dave6', room, via('b'));
  for (const p of [carol, dave]) {
    await waitForMessage(p, 'through process B');
    assert.deepEqual(await messageTexts(p), ['through process A', 'through process B']);
  }
  await shot(bob, 'chat-scaleout.png');
});
