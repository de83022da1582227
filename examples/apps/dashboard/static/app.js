// The dashboard page: one WebSocket, server push only.
'use strict';

const METRICS = [
  { key: 'cpu', name: 'CPU', unit: '%', max: 100 },
  { key: 'memory', name: 'Memory', unit: '%', max: 100 },
  { key: 'requests', name: 'Requests', unit: '/s', max: 5000 },
  { key: 'latency', name: 'Latency p99', unit: 'ms', max: 500 },
];
const HISTORY = 120; // points per sparkline
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15000;

// Exposed for the end-to-end tests.
const state = { status: 'offline', received: 0, lastSeq: 0, gaps: 0, dropped: 0, policy: '', hello: null };
window.dashState = state;

const $ = (id) => document.getElementById(id);
const series = new Map(METRICS.map((m) => [m.key, []]));
const tiles = new Map();

for (const m of METRICS) {
  const tile = document.createElement('div');
  tile.className = 'tile';
  tile.dataset.metric = m.key;
  const h = document.createElement('h2');
  h.textContent = m.name;
  const big = document.createElement('div');
  big.className = 'big';
  const value = document.createElement('span');
  value.textContent = '–';
  const unit = document.createElement('span');
  unit.className = 'unit';
  unit.textContent = m.unit;
  big.append(value, unit);
  const canvas = document.createElement('canvas');
  canvas.width = 460;
  canvas.height = 120;
  tile.append(h, big, canvas);
  $('tiles').append(tile);
  tiles.set(m.key, { value, canvas, max: m.max });
}

function setStatus(cls, text) {
  state.status = cls;
  $('status').className = 'status ' + cls;
  $('status').textContent = text;
}

let attempt = 0;
function connect() {
  setStatus('connecting', 'connecting…');
  const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
  ws.onopen = () => { attempt = 0; setStatus('online', 'live'); };
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'hello') onHello(msg);
    else if (msg.type === 'update') onUpdate(msg);
    else if (msg.type === 'stats') onStats(msg);
  };
  ws.onclose = () => {
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt++);
    const delay = cap / 2 + Math.random() * cap / 2;
    setStatus('offline', `disconnected, retrying in ${(delay / 1000).toFixed(1)} s`);
    setTimeout(connect, delay);
  };
}

function onHello(h) {
  state.hello = h;
  state.policy = h.policy;
  state.lastSeq = 0; // a new connection starts a new count
  $('policy').textContent = `${h.policy} (queue ${h.queue})`;
  $('explain').textContent = `The server sends ${h.rate} updates per second. When this page's send queue (${h.queue} updates) is full, ` +
    (h.policy === 'drop'
      ? 'new updates are dropped until it drains: the page sees gaps.'
      : 'the queued updates are replaced by the newest one: the page skips ahead to the present.');
}

const arrivals = [];
function onUpdate(u) {
  state.received++;
  if (state.lastSeq && u.seq > state.lastSeq + 1) state.gaps += u.seq - state.lastSeq - 1;
  state.lastSeq = u.seq;
  const now = performance.now();
  arrivals.push(now);
  while (arrivals.length && arrivals[0] < now - 2000) arrivals.shift();
  for (const m of METRICS) {
    const s = series.get(m.key);
    s.push(u.metrics[m.key]);
    if (s.length > HISTORY) s.shift();
  }
  scheduleDraw();
}

function onStats(s) {
  state.dropped = s.dropped;
  $('dropped').textContent = String(s.dropped);
  $('dropped').classList.toggle('nonzero', s.dropped > 0);
}

let drawing = false;
function scheduleDraw() {
  if (drawing) return;
  drawing = true;
  requestAnimationFrame(() => { drawing = false; draw(); });
}

function draw() {
  $('received').textContent = String(state.received);
  $('seq').textContent = String(state.lastSeq);
  $('gaps').textContent = String(state.gaps);
  $('rate').textContent = (arrivals.length / 2).toFixed(1) + ' /s';
  for (const m of METRICS) {
    const t = tiles.get(m.key);
    const s = series.get(m.key);
    if (!s.length) continue;
    t.value.textContent = s[s.length - 1].toFixed(1);
    const g = t.canvas.getContext('2d');
    const w = t.canvas.width, h = t.canvas.height;
    g.clearRect(0, 0, w, h);
    g.beginPath();
    s.forEach((v, i) => {
      const x = (i / (HISTORY - 1)) * w;
      const y = h - (v / t.max) * (h - 8) - 4;
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.strokeStyle = '#3056d3';
    g.lineWidth = 3;
    g.stroke();
  }
}

connect();
