// The chat page: plain JavaScript over the browser's WebSocket API.
//
// Everything a user sent is put on the page with textContent, never as
// HTML. The protocol is described in README.md.
'use strict';

const params = new URLSearchParams(location.search);
const ACK_TIMEOUT_MS = 5000;
// Reconnection backoff: the n-th attempt waits between half and all of
// min(BACKOFF_MAX, BACKOFF_BASE * 2^n) ("equal jitter"), so clients that
// lost the same server do not all come back at once. ?backoff=MS changes
// the base (the end-to-end tests use it).
const BACKOFF_BASE_MS = Number(params.get('backoff')) || 500;
const BACKOFF_MAX_MS = 30000;
const TYPING_SEND_EVERY_MS = 2000;
const TYPING_IDLE_MS = 3000;
const TYPING_SHOW_MS = 5000;
const MAX_KEPT = 500; // messages kept per room on the page

// ChatSocket is one logical connection that survives reconnects: requests
// with acknowledgements, events, and reconnection with backoff.
class ChatSocket {
  constructor(url, { onOpen, onEvent, onStatus }) {
    this.url = url;
    this.onOpen = onOpen;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, timer}
    this.attempt = 0;
    this.stopped = false;
    this.ws = null;
  }

  connect() {
    this.onStatus('connecting', 'connecting…');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.onStatus('online', 'online');
      this.onOpen();
    };
    ws.onmessage = (e) => {
      let env;
      try { env = JSON.parse(e.data); } catch { return; }
      if (env.id && (env.event === 'ack' || env.event === 'error')) {
        const p = this.pending.get(env.id);
        if (!p) return; // answered after its timeout
        this.pending.delete(env.id);
        clearTimeout(p.timer);
        if (env.event === 'ack') p.resolve(env.data);
        else p.reject(Object.assign(new Error(env.data.message), { code: env.data.code }));
        return;
      }
      this.onEvent(env.event, env.data);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(Object.assign(new Error('connection lost'), { code: 'disconnected' }));
        this.pending.delete(id);
      }
      if (this.stopped) {
        this.onStatus('offline', 'disconnected');
        return;
      }
      const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
      const delay = cap / 2 + Math.random() * cap / 2;
      this.attempt++;
      window.chatState.reconnects++;
      const why = e.code === 1006 ? 'connection lost' : `closed (${e.code}${e.reason ? ': ' + e.reason : ''})`;
      this.onStatus('offline', `${why}, reconnecting in ${(delay / 1000).toFixed(1)} s`);
      setTimeout(() => this.connect(), delay);
    };
  }

  get open() { return this.ws !== null && this.ws.readyState === WebSocket.OPEN; }

  // request sends an event with an id and resolves with the server's ack
  // data, or rejects on an error event, a lost connection or a timeout.
  request(event, data) {
    return new Promise((resolve, reject) => {
      if (!this.open) {
        reject(Object.assign(new Error('not connected'), { code: 'disconnected' }));
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(Object.assign(new Error('no answer within ' + ACK_TIMEOUT_MS / 1000 + ' s'), { code: 'timeout' }));
      }, ACK_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ event, id, data }));
    });
  }

  // emit sends an event that needs no acknowledgement.
  emit(event, data) {
    if (this.open) this.ws.send(JSON.stringify({ event, data }));
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
  }
}

// Page state. Exposed as window.chatState for the end-to-end tests.
const state = {
  name: '',
  node: '', // chat process serving the connection, from the hello ack
  status: 'offline',
  active: '', // room shown
  rooms: new Map(), // joined room -> {entries: Map key->entry, lastSeen, unread, typing: Map name->expiry}
  online: [],
  allRooms: [],
  target: '', // private message recipient, or '' for the room
  reconnects: 0,
  recovered: 0, // messages received through recovery after a reconnect
  privateCount: 0,
};
window.chatState = state;

const $ = (id) => document.getElementById(id);

// el builds an element; text goes through textContent only.
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function clock(ts) {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function showError(text) {
  const li = el('li', '', text);
  $('errors').prepend(li);
  while ($('errors').children.length > 3) $('errors').lastChild.remove();
  setTimeout(() => li.remove(), 8000);
}

const wsURL = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
const sock = new ChatSocket(wsURL, {
  onStatus(cls, text) {
    state.status = cls;
    const s = $('status');
    s.className = 'status ' + cls;
    s.textContent = text;
  },
  onOpen: () => resume(),
  onEvent: (event, data) => handlers[event]?.(data),
});

// resume says hello and rejoins every room, asking only for the messages
// after the last one seen: the connection-state recovery.
async function resume() {
  try {
    const ack = await sock.request('hello', { name: state.name });
    state.node = ack.node;
  } catch (err) {
    showError('hello: ' + err.message);
    if (err.code === 'invalid') {
      sock.stop();
      $('app').hidden = true;
      $('login').hidden = false;
    }
    return;
  }
  for (const room of [...state.rooms.keys()]) joinRoom(room, true);
}

function roomState(room) {
  let r = state.rooms.get(room);
  if (!r) {
    r = { entries: new Map(), lastSeen: 0, unread: 0, typing: new Map(), seq: 0 };
    state.rooms.set(room, r);
  }
  return r;
}

async function joinRoom(room, rejoin) {
  const r = roomState(room);
  if (!rejoin) show(room);
  const since = r.lastSeen;
  let ack;
  try {
    ack = await sock.request('join', { room, since });
  } catch (err) {
    showError(`join ${room}: ${err.message}`);
    if (!rejoin && r.entries.size === 0) {
      state.rooms.delete(room);
      show(state.rooms.keys().next().value || '');
    }
    return;
  }
  if (since > 0 && ack.history.length > 0 && ack.history[0].id > since + 1) {
    addNote(room, 'older messages missed while away are no longer in the history');
  }
  let fresh = 0;
  for (const m of ack.history) if (addMessage(m)) fresh++;
  if (rejoin && since > 0) {
    state.recovered += fresh;
    if (fresh > 0) addNote(room, `recovered ${fresh} message${fresh > 1 ? 's' : ''} sent while you were away`);
  }
  r.members = ack.members;
  r.joined = true;
  if (room === state.active) $('members').textContent = memberText(r.members);
  render();
}

function memberText(members) {
  return `${members.length} here: ${members.join(', ')}`;
}

// addMessage stores a room message by id; it returns false for one
// already seen (it can arrive both live and in a join's history).
function addMessage(m) {
  const r = state.rooms.get(m.room);
  if (!r) return false;
  const key = m.id * 2;
  if (r.entries.has(key)) return false;
  r.entries.set(key, { kind: 'msg', m });
  if (m.id > r.lastSeen) r.lastSeen = m.id;
  r.typing.delete(m.from);
  if (m.room !== state.active) r.unread++;
  trim(r);
  return true;
}

// addNote adds a line of presence or status after the last message seen.
function addNote(room, text) {
  const r = state.rooms.get(room);
  if (!r) return;
  r.seq++;
  r.entries.set(r.lastSeen * 2 + 1 + r.seq / 1e6, { kind: 'note', text });
  trim(r);
}

function trim(r) {
  if (r.entries.size <= MAX_KEPT) return;
  const keys = [...r.entries.keys()].sort((a, b) => a - b);
  for (const k of keys.slice(0, keys.length - MAX_KEPT)) r.entries.delete(k);
}

const handlers = {
  message(m) {
    if (addMessage(m)) render();
  },
  presence(p) {
    const r = state.rooms.get(p.room);
    if (!r) return;
    const members = new Set(r.members || []);
    if (p.action === 'join') members.add(p.name);
    else members.delete(p.name);
    r.members = [...members].sort();
    if (p.room === state.active) $('members').textContent = memberText(r.members);
    if (p.name !== state.name) addNote(p.room, `${p.name} ${p.action === 'join' ? 'joined' : 'left'}`);
    render();
  },
  typing(t) {
    const r = state.rooms.get(t.room);
    if (!r || t.name === state.name) return;
    if (t.active) r.typing.set(t.name, Date.now() + TYPING_SHOW_MS);
    else r.typing.delete(t.name);
    renderTyping();
  },
  private(p) {
    state.privateCount++;
    addPrivate(`${p.from} → you`, p.text, p.ts);
  },
  online(o) {
    state.online = o.users;
    renderUsers();
  },
  rooms(r) {
    state.allRooms = r.rooms;
    renderRooms();
  },
  error(e) {
    showError(`${e.code}: ${e.message}`);
  },
};

function addPrivate(who, text, ts) {
  const li = el('li');
  li.append(el('span', 'time', clock(ts)), el('span', 'from', who), el('span', 'text', text));
  $('private').append(li);
  $('private').scrollTop = $('private').scrollHeight;
}

function show(room) {
  state.active = room;
  const r = state.rooms.get(room);
  if (r) r.unread = 0;
  $('roomtitle').textContent = room ? '#' + room : 'no room';
  $('members').textContent = r && r.members ? memberText(r.members) : '';
  render();
}

function render() {
  renderMessages();
  renderTyping();
  renderRooms();
}

function renderMessages() {
  const list = $('messages');
  const r = state.rooms.get(state.active);
  const stick = list.scrollTop + list.clientHeight >= list.scrollHeight - 20;
  const items = [];
  if (r) {
    const keys = [...r.entries.keys()].sort((a, b) => a - b);
    for (const k of keys) {
      const e = r.entries.get(k);
      const li = el('li');
      if (e.kind === 'msg') {
        li.dataset.id = e.m.id;
        li.append(el('span', 'time', clock(e.m.ts)), el('span', 'from', e.m.from), el('span', 'text', e.m.text));
      } else if (e.kind === 'note') {
        li.append(el('span', 'note', e.text));
      }
      items.push(li);
    }
    for (const p of pendingSends) {
      if (p.room !== state.active) continue;
      const li = el('li', p.failed ? 'failed' : 'pending');
      li.append(el('span', 'from', state.name), el('span', 'text', p.text),
        el('span', 'time', p.failed ? ` not sent: ${p.failed}` : ' sending…'));
      items.push(li);
    }
  }
  list.replaceChildren(...items);
  if (stick) list.scrollTop = list.scrollHeight;
}

function renderTyping() {
  const r = state.rooms.get(state.active);
  const now = Date.now();
  const names = [];
  if (r) {
    for (const [n, exp] of r.typing) {
      if (exp > now) names.push(n);
      else r.typing.delete(n);
    }
  }
  $('typing').textContent = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
}
setInterval(renderTyping, 1000);

function renderRooms() {
  const list = $('rooms');
  const counts = new Map(state.allRooms.map((r) => [r.name, r.members]));
  const names = new Set([...state.rooms.keys(), ...counts.keys()]);
  const items = [];
  for (const name of [...names].sort()) {
    const li = el('li', name === state.active ? 'active' : '');
    li.dataset.room = name;
    li.append(el('span', '', '#' + name));
    const r = state.rooms.get(name);
    if (r && r.unread > 0) li.append(el('span', 'badge', String(r.unread)));
    else li.append(el('span', 'count', String(counts.get(name) ?? 0)));
    li.title = r ? 'joined' : 'click to join';
    li.onclick = () => (state.rooms.has(name) ? show(name) : joinRoom(name, false));
    items.push(li);
  }
  list.replaceChildren(...items);
}

function renderUsers() {
  const items = state.online.map((n) => {
    const li = el('li', n === state.name ? 'self' : '', n === state.name ? n + ' (you)' : n);
    li.dataset.user = n;
    if (n !== state.name) li.onclick = () => setTarget(n);
    return li;
  });
  $('users').replaceChildren(...items);
}

function setTarget(name) {
  state.target = name;
  const t = $('target');
  t.hidden = !name;
  t.textContent = name ? `to ${name} ✕` : '';
  $('text').placeholder = name ? `Private message to ${name}` : 'Message';
  $('text').focus();
}

// Sends in flight: shown greyed until acknowledged, in red if not.
const pendingSends = [];

async function send(text) {
  if (state.target) {
    const to = state.target;
    try {
      const ack = await sock.request('whisper', { to, text });
      if (ack.delivered) addPrivate(`you → ${to}`, text, Date.now());
      else showError(`${to} is not online`);
    } catch (err) {
      showError(`private message to ${to}: ${err.message}`);
    }
    return;
  }
  const room = state.active;
  if (!room) return;
  const p = { room, text, failed: '' };
  pendingSends.push(p);
  renderMessages();
  try {
    await sock.request('say', { room, text });
    pendingSends.splice(pendingSends.indexOf(p), 1);
  } catch (err) {
    p.failed = err.message;
    setTimeout(() => {
      const i = pendingSends.indexOf(p);
      if (i >= 0) pendingSends.splice(i, 1);
      renderMessages();
    }, 8000);
  }
  renderMessages();
}

// Typing indicator: at most one "typing" event per TYPING_SEND_EVERY_MS
// while keys are pressed, and a stop after TYPING_IDLE_MS without any.
let typingSent = 0;
let typingIdle = null;
function typing(active) {
  if (!state.active || state.target) return;
  clearTimeout(typingIdle);
  if (active) {
    if (Date.now() - typingSent > TYPING_SEND_EVERY_MS) {
      sock.emit('typing', { room: state.active, active: true });
      typingSent = Date.now();
    }
    typingIdle = setTimeout(() => typing(false), TYPING_IDLE_MS);
  } else if (typingSent) {
    sock.emit('typing', { room: state.active, active: false });
    typingSent = 0;
  }
}

$('login').onsubmit = (e) => {
  e.preventDefault();
  state.name = $('name').value.trim();
  $('me').textContent = state.name;
  $('login').hidden = true;
  $('app').hidden = false;
  roomState($('room').value.trim());
  show($('room').value.trim());
  sock.connect();
};

$('joinform').onsubmit = (e) => {
  e.preventDefault();
  const room = $('newroom').value.trim();
  $('newroom').value = '';
  if (state.rooms.has(room)) show(room);
  else joinRoom(room, false);
};

$('sendform').onsubmit = (e) => {
  e.preventDefault();
  const text = $('text').value.trim();
  if (!text) return;
  $('text').value = '';
  typing(false);
  send(text);
};

$('text').oninput = () => typing($('text').value !== '');
$('target').onclick = () => setTarget('');

$('leave').onclick = async () => {
  const room = state.active;
  if (!room) return;
  try {
    await sock.request('leave', { room });
  } catch (err) {
    if (err.code !== 'not_in_room') {
      showError(`leave ${room}: ${err.message}`);
      return;
    }
  }
  state.rooms.delete(room);
  show(state.rooms.keys().next().value || '');
};
