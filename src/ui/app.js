// app.js - logship's web UI, served by logshipd from its own binary.
//
// Three views over the server's APIs:
//   Live     /api/tail over a WebSocket: the last records, then every new
//            one. On a lost connection it reconnects with after=<last seq
//            seen>, so nothing is missed and nothing shown twice.
//   History  /api/logs: a time range and the same filters, newest page
//            first, then "load older" (order=desc&before=<oldest seq>).
//   Files    /api/files: pick a file under a --tail-root, follow it live.
// Filters and the view live in the URL (?topic=web.%23&app=web&host=web-*&
// level=warning&q=..) so a view can be shared and reloaded. A server hint
// (a topic pattern without a wildcard that found nothing) shows in the live
// banner or the history status.
//
// Paths: every URL the page uses is relative to where logshipd's root is as
// this page sees it, derived from this module's own URL (<root>/ui/app.js),
// so the UI works at / and behind a reverse proxy under any prefix
// (https://example.com/logs/ proxied to logshipd's /): api('api/logs') is
// <root>api/logs, wsURL('api/tail') the same with ws: or wss:.
//
// Tokens: a logshipd with --auth-file answers 401 without one. The page
// then asks for a token (a small form), keeps it in sessionStorage (this
// tab only: not other tabs, not after the tab closes), and sends it as
// Authorization: Bearer on every API call. A browser's WebSocket cannot
// send that header, so each WebSocket (live tail, file tail) first gets a
// short-lived ticket from POST api/session with the token and opens with
// ?ticket=: the token itself never goes into a URL. A token the server
// stops taking (401 again) is forgotten and asked for anew; one without a
// route's scope (403) is shown as that view's error.
//
// Safety: message text only ever reaches the DOM through textContent and
// text nodes (ansi.js turns color codes into class names); the server's
// Content-Security-Policy forbids inline scripts and styles besides. Text
// from records (messages, topics, fields, file names) goes through
// showControls/showBidi (safeText): control and bidirectional control
// characters are shown as visible symbols and escapes, never obeyed.
import { parseAnsi, xterm256, showControls, showBidi, safeText } from './ansi.js';
import { LogList } from './loglist.js';

const LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];
const BADGES = ['EMERG', 'ALERT', 'CRIT', 'ERROR', 'WARN', 'NOTICE', 'INFO', 'DEBUG'];
const BACKLOG = 1000; // records asked for when a live view starts
const KEEP_DEFAULT = 10000;
const RETRY_MS = [250, 500, 1000, 2000, 3000];
const RANGES = { '15m': 15 * 60e3, '1h': 3600e3, '6h': 6 * 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };

const $ = (id) => document.getElementById(id);

const state = {
  view: 'live',
  topics: [],
  apps: [], // app= globs, any may match
  hosts: [], // host= globs
  level: '',
  q: '',
  range: '1h',
  since: '', // RFC 3339, for range=custom
  until: '',
  pageSize: 500,
  file: '', // "<root>/<path>"
  keep: KEEP_DEFAULT,
};

// ---- formatting ------------------------------------------------------------

const nf = new Intl.NumberFormat('en-US');
const fmtInt = (n) => nf.format(n);
const pad = (n, w = 2) => String(n).padStart(w, '0');

// "2026-11-21T10:45:56.123456789Z" -> epoch ms (the ns digits kept in .frac)
function parseTs(ts) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts || '');
  if (!m) return { ms: NaN, frac: '' };
  const frac = m[2] || '';
  return { ms: Date.parse(`${m[1]}Z`) + Number(`0.${frac || '0'}`) * 1000, frac };
}

function fmtTime(ts, withDate) {
  const { ms } = parseTs(ts);
  if (Number.isNaN(ms)) return ts || '';
  const d = new Date(ms);
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  return withDate ? `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}` : t;
}

function fmtLocalFull(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${u[i]}`;
}

function fmtRate(v) {
  if (v == null) return '–';
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1);
}

// ---- rendering message text: ANSI colors, search highlights, text only --

function colorTo(span, classes, kind, c) {
  if (c === null || c === undefined) return;
  if (c === 'rev') classes.push(`a-${kind}-rev`);
  else if (typeof c === 'number' && c < 16) classes.push(`a-${kind}-${c}`);
  else {
    const rgb = typeof c === 'number' ? xterm256(c) : c;
    // numbers 0..255 checked by the parser: CSSOM, not markup
    const css = `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
    if (kind === 'fg') span.style.color = css;
    else span.style.backgroundColor = css;
  }
}

function appendText(parent, text, q) {
  if (!q) {
    parent.append(text);
    return;
  }
  let from = 0;
  for (let i = text.indexOf(q); i >= 0; i = text.indexOf(q, from)) {
    if (i > from) parent.append(text.slice(from, i));
    const mark = document.createElement('mark');
    mark.textContent = q;
    parent.append(mark);
    from = i + q.length;
  }
  if (from < text.length) parent.append(text.slice(from));
}

// A row shows at most this much of a message (the details show it all):
// a 64 KiB line would cost layout for text nobody can see on one line.
const ROW_CHARS = 2000;

// Fills node with msg: one line (rows) or as written (details).
function renderMessage(node, msg, q, oneLine) {
  node.textContent = '';
  let room = oneLine ? ROW_CHARS : Infinity;
  for (const run of parseAnsi(String(msg ?? ''))) {
    let text = oneLine ? run.text.replace(/\r?\n/g, ' ↵ ') : run.text;
    if (room <= 0 || text.length > room) {
      text = `${text.slice(0, Math.max(0, room))}…`;
      room = -1;
    } else {
      room -= text.length;
    }
    text = showBidi(showControls(text));
    let fg = run.fg;
    let bg = run.bg;
    if (run.inverse) {
      fg = run.bg ?? 'rev';
      bg = run.fg ?? 'rev';
    }
    const classes = [];
    if (run.bold) classes.push('a-b');
    if (run.dim) classes.push('a-d');
    if (run.italic) classes.push('a-i');
    if (run.underline) classes.push('a-u');
    if (run.strike) classes.push('a-s');
    if (!classes.length && fg === null && bg === null) {
      appendText(node, text, q);
      if (room < 0) break;
      continue;
    }
    const span = document.createElement('span');
    colorTo(span, classes, 'fg', fg);
    colorTo(span, classes, 'bg', bg);
    span.className = classes.join(' ');
    appendText(span, text, q);
    node.append(span);
    if (room < 0) break;
  }
}

function levelOf(r) {
  const i = LEVELS.indexOf(r.level);
  return i < 0 ? 6 : i;
}

// One record as a row: time, level badge, topic, message.
function renderRecordRow(row, r, wide) {
  if (r.kind === 'marker') {
    row.className = `row marker${r.bad ? ' bad' : ''}`;
    row.textContent = safeText(r.text);
    row.title = '';
    delete row.dataset.seq;
    return;
  }
  const lv = levelOf(r);
  row.className = `row r-lv-${lv}${wide ? ' wide-ts' : ''}`;
  row.dataset.seq = r.seq;
  let [ts, badge, tp, msg] = row.children;
  if (row.children.length !== 4 || !ts.classList.contains('ts')) {
    row.textContent = '';
    ts = document.createElement('span');
    badge = document.createElement('span');
    tp = document.createElement('span');
    msg = document.createElement('span');
    ts.className = 'ts';
    tp.className = 'tp';
    msg.className = 'msg';
    row.append(ts, badge, tp, msg);
  }
  ts.textContent = fmtTime(r.ts, wide);
  ts.title = safeText(r.ts);
  badge.className = `lv lv-${lv}`;
  badge.textContent = BADGES[lv];
  tp.textContent = safeText(r.topic || r.app || '');
  tp.title = [r.app && `app ${safeText(r.app)}`, r.host && `host ${safeText(r.host)}`,
    r.pid && `pid ${safeText(r.pid)}`].filter(Boolean).join(' · ');
  renderMessage(msg, r.msg, state.q, true);
  row.title = '';
}

function renderFileRow(row, it) {
  row.className = `row fline${it.kind === 'marker' ? ' marker' : ''}${it.bad ? ' bad' : ''}`;
  if (it.kind === 'marker') row.textContent = safeText(it.text);
  else renderMessage(row, it.text, '', true);
}

const marker = (text, bad = false) => ({ kind: 'marker', text, bad });

// ---- URL <-> state -----------------------------------------------------------

const splitTopics = (s) => s.split(/[\s,]+/).filter(Boolean);

// The server's rule (src/route/topic.c): words separated by dots, none
// empty, '*' and '#' only as whole words; at most 255 bytes and 32 words.
function topicError(p) {
  if (new TextEncoder().encode(p).length > 255) return 'a topic pattern is at most 255 bytes';
  const words = p.split('.');
  if (words.length > 32) return `"${p}": a topic pattern is at most 32 words`;
  for (const w of words) {
    if (!w) return `"${p}": empty word (two dots, or a dot at an end)`;
    if (w.length > 1 && /[*#]/.test(w)) return `"${p}": '*' and '#' must be whole words`;
  }
  return null;
}

// app= and host= globs (src/route/glob.h): at most 16, each 255 bytes.
function globError(kind, list) {
  if (list.length > 16) return `at most 16 ${kind} patterns`;
  const long = list.find((g) => new TextEncoder().encode(g).length > 255);
  return long ? `"${long.slice(0, 20)}…": a ${kind} pattern is at most 255 bytes` : null;
}
const readGlobs = (p, key) => {
  const l = p.getAll(key).flatMap(splitTopics).slice(0, 16);
  return globError(key, l) ? [] : l;
};

function readURL() {
  const p = new URLSearchParams(location.search);
  const v = p.get('view');
  state.view = ['live', 'history', 'files'].includes(v) ? v : 'live';
  state.topics = p.getAll('topic').flatMap(splitTopics).filter((t) => !topicError(t)).slice(0, 16);
  state.apps = readGlobs(p, 'app');
  state.hosts = readGlobs(p, 'host');
  state.level = LEVELS.includes(p.get('level')) ? p.get('level') : '';
  state.q = p.get('q') || '';
  state.since = p.get('since') || '';
  state.until = p.get('until') || '';
  const r = p.get('range');
  state.range = r in RANGES || r === 'all' || r === 'custom' ? r
    : state.since || state.until ? 'custom' : '1h';
  const lim = Number(p.get('limit'));
  if ([100, 500, 1000, 5000].includes(lim)) state.pageSize = lim;
  state.file = p.get('file') || '';
  let saved = null;
  try { saved = localStorage.getItem('logship.keep'); } catch { /* storage off */ }
  const keep = Number(p.get('keep') || saved);
  if (Number.isInteger(keep) && keep >= 100 && keep <= 1000000) state.keep = keep;
}

function writeURL() {
  const p = new URLSearchParams();
  if (state.view !== 'live') p.set('view', state.view);
  if (state.view !== 'files') {
    for (const t of state.topics) p.append('topic', t);
    for (const a of state.apps) p.append('app', a);
    for (const h of state.hosts) p.append('host', h);
    if (state.level) p.set('level', state.level);
    if (state.q) p.set('q', state.q);
  }
  if (state.view === 'history') {
    p.set('range', state.range);
    if (state.range === 'custom') {
      if (state.since) p.set('since', state.since);
      if (state.until) p.set('until', state.until);
    }
    if (state.pageSize !== 500) p.set('limit', state.pageSize);
  }
  if (state.view === 'files' && state.file) p.set('file', state.file);
  const qs = p.toString();
  if ((qs ? `?${qs}` : '') !== location.search)
    history.replaceState(null, '', qs ? `?${qs}` : location.pathname);
}

function filterParams() {
  const p = new URLSearchParams();
  for (const t of state.topics) p.append('topic', t);
  for (const a of state.apps) p.append('app', a);
  for (const h of state.hosts) p.append('host', h);
  if (state.level) p.set('level', state.level);
  if (state.q) p.set('q', state.q);
  return p;
}

// logshipd's root as this page reaches it: "http://host/" or
// "https://host/logs/" behind a proxy.
const ROOT = new URL('..', import.meta.url);

// An API URL (path relative, without a leading slash) under ROOT.
function api(path) {
  return new URL(path, ROOT).href;
}

function wsURL(path) {
  const u = new URL(path, ROOT);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

// ---- tokens ------------------------------------------------------------------

const auth = {
  token: null, // sessionStorage's logship.token
  waiting: null, // the prompt's promise while it is shown
  resolve: null,
};

function loadToken() {
  try { auth.token = sessionStorage.getItem('logship.token'); } catch { auth.token = null; }
}

function authHeaders() {
  return auth.token ? { Authorization: `Bearer ${auth.token}` } : {};
}

// Shows the token form; resolves once a token was entered. Every call that
// got a 401 meanwhile waits on the same prompt.
function askToken(message) {
  if (!auth.waiting) {
    auth.waiting = new Promise((resolve) => { auth.resolve = resolve; });
    $('auth-error').textContent = message || '';
    $('auth-token').value = '';
    $('auth').hidden = false;
    $('auth-token').focus();
    setConn('locked', 'token needed');
  }
  return auth.waiting;
}

function onTokenSubmit(ev) {
  ev.preventDefault();
  const t = $('auth-token').value.trim();
  if (!t) {
    $('auth-error').textContent = 'enter a token';
    return;
  }
  auth.token = t;
  try { sessionStorage.setItem('logship.token', t); } catch { /* storage off: this page only */ }
  $('auth').hidden = true;
  const done = auth.resolve;
  auth.waiting = auth.resolve = null;
  done();
}

// fetch with the token; a 401 asks for one (again) and retries.
async function authFetch(url, opts = {}) {
  for (;;) {
    const r = await fetch(url, { cache: 'no-store', ...opts, headers: { ...(opts.headers || {}), ...authHeaders() } });
    if (r.status !== 401) return r;
    const had = auth.token;
    if (had) {
      auth.token = null;
      try { sessionStorage.removeItem('logship.token'); } catch { /* storage off */ }
    }
    await askToken(had ? 'That token was not accepted.' : '');
  }
}

// "ticket=...&" for a WebSocket that needs scope, or '' when the server
// wants no token (or predates tickets). Throws with .status on a refusal.
async function wsTicket(scope) {
  const r = await authFetch(api(`api/session?scope=${scope}`), { method: 'POST' });
  if (r.status === 404) return '';
  let body = null;
  try { body = await r.json(); } catch { /* not JSON */ }
  if (!r.ok) {
    const e = new Error((body && body.error) || `${r.status} ${r.statusText}`);
    e.status = r.status;
    throw e;
  }
  return body && body.ticket ? `ticket=${encodeURIComponent(body.ticket)}&` : '';
}

async function getJSON(url, opts, onHeaders) {
  const r = await authFetch(url, opts);
  if (onHeaders) onHeaders(r.headers);
  let body = null;
  try { body = await r.json(); } catch { /* not JSON */ }
  if (!r.ok) {
    const e = new Error((body && body.error) || `${r.status} ${r.statusText}`);
    e.status = r.status;
    throw e;
  }
  return body;
}

// ---- connection indicator ----------------------------------------------------

function setConn(st, label) {
  const c = $('conn');
  c.dataset.state = st;
  $('conn-label').textContent = label || st;
}

// ---- live ------------------------------------------------------------------

const live = {
  list: null,
  ws: null,
  gen: 0, // bumps on every (re)connect: callbacks of older sockets are ignored
  lastSeq: null, // newest seq received: resume point
  baseSeq: null, // the store's newest seq when the view started (nothing seen yet)
  retry: 0,
  timer: 0,
  paused: false,
  held: [], // records that arrived while paused
  heldCount: 0,
  error: '',
};

function liveStart() {
  liveStop();
  live.list.clear();
  live.lastSeq = null;
  live.baseSeq = null;
  live.held = [];
  live.heldCount = 0;
  live.retry = 0;
  live.error = '';
  showBanner('');
  updatePause();
  updateFooter();
  liveConnect(true);
}

function liveStop() {
  live.gen++;
  clearTimeout(live.timer);
  live.timer = 0;
  if (live.ws) {
    live.ws.onclose = live.ws.onmessage = live.ws.onopen = null;
    live.ws.close();
    live.ws = null;
  }
}

// Connects (first) or reconnects. Every attempt asks /healthz first: it
// tells whether the server is back without a failed WebSocket, the store's
// newest seq (the resume point while nothing matched yet), and whether the
// store was reset (its seqs lower than ours: start over).
async function liveConnect(first) {
  const gen = ++live.gen;
  setConn(first ? 'connecting' : 'reconnecting', first ? 'connecting' : 'reconnecting…');
  let health = null;
  try {
    health = await getJSON(api('healthz'), { signal: AbortSignal.timeout(3000) });
  } catch (e) {
    if (!e.status) { // down or unreachable; a 503 (failing store) still tails
      if (gen === live.gen) liveRetry();
      return;
    }
  }
  if (gen !== live.gen) return;
  const storeSeq = health && Number.isFinite(health.last_seq) ? health.last_seq : null;
  const mark = live.lastSeq ?? live.baseSeq;
  if (mark !== null && storeSeq !== null && storeSeq < mark) {
    if (live.lastSeq !== null) addLive([marker('— the server\'s store was reset: starting over —', true)]);
    live.lastSeq = null;
    live.baseSeq = null;
  }
  // after= once a stream has started (it sent its backlog from there on)
  const resume = live.lastSeq ?? live.baseSeq;
  const p = filterParams();
  if (resume !== null) p.set('after', resume);
  else p.set('n', BACKLOG);

  let ticket;
  try {
    ticket = await wsTicket('tail');
  } catch (e) {
    if (gen !== live.gen) return;
    if (e.status === 403) {
      // this token may not tail: say so, and look again now and then
      live.error = e.message;
      showBanner(`live tail refused: ${e.message}`, true);
      setConn('error', 'no tail scope');
    }
    liveRetry();
    return;
  }
  if (gen !== live.gen) return;
  const ws = new WebSocket(wsURL(`api/tail?${ticket}${p}`));
  live.ws = ws;
  let opened = 0;
  ws.onopen = () => {
    if (gen !== live.gen) return;
    opened = Date.now();
    if (resume === null) live.baseSeq = storeSeq;
    setConn('live', 'live');
    if (!live.error) showBanner('');
  };
  ws.onmessage = (ev) => {
    if (gen !== live.gen) return;
    live.retry = 0;
    onLiveMessage(ev.data);
  };
  ws.onclose = () => {
    if (gen !== live.gen) return;
    live.ws = null;
    if (opened && Date.now() - opened > 3000) live.retry = 0;
    liveRetry();
  };
}

function liveRetry() {
  const wait = live.error ? 10000 : RETRY_MS[Math.min(live.retry, RETRY_MS.length - 1)];
  live.retry++;
  if (!live.error) setConn('reconnecting', `reconnecting… (${Math.ceil(wait / 1000)} s)`);
  clearTimeout(live.timer);
  live.timer = setTimeout(() => {
    live.timer = 0;
    liveConnect(false);
  }, wait);
}

function onLiveMessage(text) {
  let data;
  try { data = JSON.parse(text); } catch { return; }
  if (Array.isArray(data)) {
    const fresh = [];
    for (const r of data) {
      if (!r || typeof r.seq !== 'number') continue;
      if (live.lastSeq !== null && r.seq <= live.lastSeq) continue; // never twice
      fresh.push(r);
      live.lastSeq = r.seq;
    }
    spark.stream += fresh.length;
    if (live.error) {
      live.error = '';
      showBanner('');
    }
    addLive(fresh);
    return;
  }
  if (!data || typeof data !== 'object') return;
  if (data.type === 'status') {
    if (data.source === 'disk' && data.lag > 0)
      setConn('catching-up', `catching up · ${fmtInt(data.lag)} behind`);
    else setConn('live', 'live');
  } else if (data.type === 'gap') {
    const n = data.to - data.from + 1;
    addLive([marker(`— ${fmtInt(n)} record${n === 1 ? '' : 's'} (seq ${data.from}..${data.to}) ` +
      'were removed by retention before they could be shown —', true)]);
  } else if (data.type === 'hint') {
    showBanner(`Hint: ${String(data.hint || '')}`);
  } else if (data.type === 'error') {
    live.error = String(data.error || 'error');
    showBanner(`The server refused the stream: ${live.error}`, true);
    setConn('error', 'error');
  }
}

function addLive(items) {
  if (!items.length) return;
  if (live.paused) {
    for (const it of items) {
      live.held.push(it);
      if (it.kind !== 'marker') live.heldCount++;
    }
    const over = live.held.length - state.keep;
    if (over > 0) live.held.splice(0, over);
    updatePause();
  } else {
    live.list.append(items);
  }
  updateFooter();
}

function setPaused(p) {
  if (p === live.paused) return;
  live.paused = p;
  if (!p) {
    live.list.append(live.held);
    live.held = [];
    live.heldCount = 0;
    live.list.jumpToLatest();
  }
  updatePause();
  updateFooter();
}

function updatePause() {
  const b = $('pause');
  b.setAttribute('aria-pressed', String(live.paused));
  b.querySelector('.pause-label').textContent = live.paused ? 'Resume' : 'Pause';
  b.title = live.paused ? 'Resume (p): show what arrived while paused' : 'Pause (p)';
  const c = $('pause-count');
  c.hidden = !live.paused;
  c.textContent = `${fmtInt(live.heldCount)} new`;
}

function showBanner(text, bad = false) {
  const b = $('live-banner');
  b.hidden = !text;
  b.textContent = safeText(text); // may quote the server, which may quote us
  b.classList.toggle('bad', bad);
}

// ---- history -----------------------------------------------------------------

const hist = {
  list: null,
  oldest: null,
  newest: null,
  dirty: true,
  busy: false,
  ctl: null,
  hint: '', // the server's Logship-Hint for the last page
};

// datetime-local value (local time) <-> RFC 3339 UTC
function toLocalInput(rfc) {
  const ms = Date.parse(rfc);
  if (Number.isNaN(ms)) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function fromLocalInput(v) {
  if (!v) return '';
  const ms = new Date(v).getTime();
  return Number.isNaN(ms) ? '' : new Date(ms).toISOString();
}

function histParams() {
  const p = filterParams();
  if (state.range in RANGES) p.set('since', new Date(Date.now() - RANGES[state.range]).toISOString());
  if (state.range === 'custom') {
    if (state.since) p.set('since', state.since);
    if (state.until) p.set('until', state.until);
  }
  p.set('limit', state.pageSize);
  return p;
}

async function histFetch(p) {
  if (hist.ctl) hist.ctl.abort();
  const ctl = new AbortController();
  hist.ctl = ctl;
  hist.busy = true;
  updateHistButtons();
  try {
    return await getJSON(api(`api/logs?${p}`), { signal: ctl.signal },
      (h) => { hist.hint = h.get('Logship-Hint') || ''; });
  } finally {
    if (hist.ctl === ctl) {
      hist.ctl = null;
      hist.busy = false;
    }
  }
}

function histStatus(text) {
  $('h-status').textContent = safeText(text);
}

function histSummary(extra = '') {
  const items = hist.list.items;
  if (!items.length) return histStatus(`no matching records${extra}${hist.hint ? ` · hint: ${hist.hint}` : ''}`);
  const a = parseTs(items[0].ts).ms;
  const b = parseTs(items[items.length - 1].ts).ms;
  histStatus(`${fmtInt(items.length)} records · ${fmtLocalFull(a)} → ${fmtLocalFull(b)}${extra}`);
}

async function histSearch() {
  hist.dirty = false;
  histStatus('searching…');
  const p = histParams();
  p.set('order', 'desc'); // the newest page of the range first
  let recs;
  try {
    recs = await histFetch(p);
  } catch (e) {
    if (e.name !== 'AbortError') histStatus(`search failed: ${e.message}`);
    updateHistButtons();
    return;
  }
  recs.reverse();
  hist.list.clear();
  hist.list.append(recs);
  hist.list.jumpToLatest();
  hist.oldest = recs.length ? recs[0].seq : null;
  hist.newest = recs.length ? recs[recs.length - 1].seq : null;
  hist.more = recs.length === state.pageSize;
  histSummary();
  updateHistButtons();
  updateFooter();
}

async function histOlder() {
  if (hist.oldest === null || hist.busy) return;
  const p = histParams();
  p.set('order', 'desc');
  p.set('before', hist.oldest);
  let recs;
  try {
    recs = await histFetch(p);
  } catch (e) {
    if (e.name !== 'AbortError') histStatus(`loading failed: ${e.message}`);
    updateHistButtons();
    return;
  }
  recs.reverse();
  hist.list.prepend(recs);
  if (recs.length) hist.oldest = recs[0].seq;
  hist.more = recs.length === state.pageSize;
  histSummary(hist.more ? '' : ' · no older records');
  updateHistButtons();
  updateFooter();
}

async function histNewer() {
  if (hist.busy) return;
  const p = histParams();
  if (hist.newest !== null) p.set('after', hist.newest);
  let recs;
  try {
    recs = await histFetch(p);
  } catch (e) {
    if (e.name !== 'AbortError') histStatus(`loading failed: ${e.message}`);
    updateHistButtons();
    return;
  }
  hist.list.append(recs);
  if (recs.length) {
    hist.newest = recs[recs.length - 1].seq;
    if (hist.oldest === null) hist.oldest = recs[0].seq;
  }
  histSummary(recs.length ? '' : ' · nothing newer yet');
  updateHistButtons();
  updateFooter();
}

function updateHistButtons() {
  $('h-older').disabled = hist.busy || hist.oldest === null || !hist.more;
  $('h-newer').disabled = hist.busy || hist.dirty;
}

function syncRangeForm() {
  $('h-range').value = state.range;
  $('range').classList.toggle('is-custom', state.range === 'custom');
  $('h-since').value = toLocalInput(state.since);
  $('h-until').value = toLocalInput(state.until);
  $('h-limit').value = String(state.pageSize);
}

function readRangeForm() {
  state.range = $('h-range').value;
  state.since = fromLocalInput($('h-since').value);
  state.until = fromLocalInput($('h-until').value);
  state.pageSize = Number($('h-limit').value) || 500;
  $('range').classList.toggle('is-custom', state.range === 'custom');
  writeURL();
}

// ---- files -------------------------------------------------------------------

const files = {
  list: null,
  roots: [],
  ws: null,
  gen: 0,
  timer: 0,
  retry: 0,
  failed: false,
};

async function filesLoad() {
  let body;
  try {
    body = await getJSON(api('api/files'));
  } catch {
    body = null; // 404 (no file tail in this server) or unreachable
  }
  const roots = body && Array.isArray(body.roots) ? body.roots : [];
  files.roots = roots;
  $('tab-files').hidden = !roots.length;
  if (!roots.length && state.view === 'files') setView('live');
  renderFileList();
  return roots.length > 0;
}

function renderFileList() {
  const nav = $('file-list');
  const pick = $('file-pick');
  nav.textContent = '';
  pick.textContent = '';
  const none = document.createElement('option');
  none.value = '';
  none.textContent = 'pick a file…';
  pick.append(none);
  for (const root of files.roots) {
    const h = document.createElement('h3');
    h.textContent = safeText(root.name);
    h.title = safeText(root.path || '');
    nav.append(h);
    const group = document.createElement('optgroup');
    group.label = safeText(root.name);
    for (const f of root.files || []) {
      const key = `${root.name}/${f.path}`;
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.file = key;
      b.setAttribute('aria-current', String(key === state.file));
      const name = document.createElement('span');
      name.textContent = safeText(f.path);
      const size = document.createElement('span');
      size.className = 'size';
      size.textContent = fmtBytes(f.size || 0);
      b.title = f.mtime ? `modified ${fmtLocalFull(Date.parse(f.mtime))}` : '';
      b.append(name, size);
      nav.append(b);
      const o = document.createElement('option');
      o.value = key;
      o.textContent = safeText(f.path);
      group.append(o);
    }
    pick.append(group);
  }
  pick.value = state.file;
}

function fileOpen(key) {
  fileClose();
  state.file = key;
  writeURL();
  for (const b of $('file-list').querySelectorAll('button'))
    b.setAttribute('aria-current', String(b.dataset.file === key));
  $('file-pick').value = key;
  $('file-name').textContent = safeText(key || 'pick a file');
  files.list.clear();
  files.retry = 0;
  files.failed = false;
  updateFooter();
  if (key) fileConnect(500);
}

function fileClose() {
  files.gen++;
  clearTimeout(files.timer);
  if (files.ws) {
    files.ws.onclose = files.ws.onmessage = files.ws.onopen = null;
    files.ws.close();
    files.ws = null;
  }
}

function fileState(text) {
  $('file-state').textContent = text;
}

async function fileConnect(n) {
  const gen = ++files.gen;
  const path = state.file.split('/').map(encodeURIComponent).join('/');
  fileState('connecting…');
  let ticket;
  try {
    ticket = await wsTicket('files');
  } catch (e) {
    if (gen !== files.gen) return;
    if (!e.status) { // unreachable: try again in a while
      fileState('reconnecting…');
      files.timer = setTimeout(() => fileConnect(0), RETRY_MS[Math.min(files.retry++, RETRY_MS.length - 1)]);
      return;
    }
    files.failed = true;
    files.list.append([marker(`— ${e.message} —`, true)]);
    fileState('stopped');
    return;
  }
  if (gen !== files.gen) return;
  const ws = new WebSocket(wsURL(`api/files/${path}?${ticket}n=${n}`));
  files.ws = ws;
  ws.onopen = () => {
    if (gen === files.gen) fileState('following');
  };
  ws.onmessage = (ev) => {
    if (gen !== files.gen) return;
    files.retry = 0;
    let data;
    try { data = JSON.parse(ev.data); } catch { return; }
    if (Array.isArray(data)) {
      files.list.append(data.map((text) => ({ kind: 'line', text: String(text) })));
    } else if (data && data.type === 'rotated') {
      files.list.append([marker('— the file was rotated: following the new one —')]);
    } else if (data && data.type === 'truncated') {
      files.list.append([marker('— the file was truncated: reading from its start —')]);
    } else if (data && data.type === 'error') {
      files.failed = true;
      files.list.append([marker(`— ${data.error} —`, true)]);
      fileState('stopped');
    }
    updateFooter();
  };
  ws.onclose = () => {
    if (gen !== files.gen) return;
    files.ws = null;
    if (files.failed) return;
    const wait = RETRY_MS[Math.min(files.retry++, RETRY_MS.length - 1)];
    fileState('reconnecting…');
    files.timer = setTimeout(() => {
      // a file has no seq to resume from: say so rather than guess
      files.list.append([marker('— reconnected: lines written while disconnected are not shown —')]);
      fileConnect(0);
    }, wait);
  };
}

// ---- records/s sparkline ---------------------------------------------------

const spark = {
  samples: [], // records/s, every second; null when unknown
  last: null, // {total, t}
  stream: 0, // records received on the live stream (fallback source)
  source: 'metrics',
};

async function sparkPoll() {
  const now = performance.now();
  let v = null;
  if (spark.source === 'metrics') {
    try {
      const r = await fetch(api('metrics'), { cache: 'no-store', headers: authHeaders() });
      if (r.status === 401 || r.status === 403) {
        // /metrics needs the admin scope: count what the stream brings
        spark.source = 'stream';
        throw new Error(String(r.status));
      }
      if (!r.ok) throw new Error(String(r.status));
      const text = await r.text();
      let total = 0;
      let found = false;
      for (const m of text.matchAll(/^logship_records_accepted_total(?:\{[^}]*\})?\s+([0-9.eE+]+)\s*$/gm)) {
        total += Number(m[1]);
        found = true;
      }
      if (!found) {
        spark.source = 'stream'; // an older server: count what we receive
      } else {
        if (spark.last && total >= spark.last.total)
          v = (total - spark.last.total) / ((now - spark.last.t) / 1000);
        spark.last = { total, t: now };
      }
    } catch {
      spark.last = null;
    }
  }
  if (spark.source === 'stream') {
    if (spark.last) v = spark.stream / ((now - spark.last.t) / 1000);
    spark.last = { t: now };
    spark.stream = 0;
  }
  spark.samples.push(v);
  if (spark.samples.length > 60) spark.samples.shift();
  sparkDraw();
}

function sparkDraw() {
  const c = $('spark');
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth || 120;
  const h = c.clientHeight || 24;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
  }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const s = spark.samples;
  const max = Math.max(1, ...s.map((x) => x || 0));
  const step = w / 59;
  const x0 = w - (s.length - 1) * step;
  const y = (v) => h - 2 - ((v || 0) / max) * (h - 4);
  const accent = getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() || '#4fb3ff';
  if (s.length > 1) {
    g.beginPath();
    g.moveTo(x0, h);
    s.forEach((v, i) => g.lineTo(x0 + i * step, y(v)));
    g.lineTo(w, h);
    g.closePath();
    g.globalAlpha = 0.18;
    g.fillStyle = accent;
    g.fill();
    g.globalAlpha = 1;
    g.beginPath();
    s.forEach((v, i) => (i ? g.lineTo(x0 + i * step, y(v)) : g.moveTo(x0, y(v))));
    g.strokeStyle = accent;
    g.lineWidth = 1.5;
    g.stroke();
  }
  const cur = s.length ? s[s.length - 1] : null;
  $('rate').textContent = `${fmtRate(cur)} /s`;
  $('spark-box').title = `Records per second ${spark.source === 'metrics' ? 'accepted by the server' : 'received'}` +
    ` · peak ${fmtRate(Math.max(0, ...s.map((x) => x || 0)))}/s over the last minute`;
}

// ---- details -----------------------------------------------------------------

let detailRecord = null;

function showDetail(r) {
  if (!r || r.kind === 'marker') return;
  detailRecord = r;
  $('d-title').textContent = `seq ${r.seq}`;
  const meta = $('d-meta');
  meta.textContent = '';
  const ms = parseTs(r.ts).ms;
  const rows = [
    ['time', r.ts],
    ['local', Number.isNaN(ms) ? '' : `${fmtLocalFull(ms)}.${pad(new Date(ms).getMilliseconds(), 3)}`],
    ['level', r.level], ['topic', r.topic], ['app', r.app], ['host', r.host], ['pid', r.pid],
  ];
  if (r.truncated) rows.push(['truncated', 'yes']);
  for (const [k, v] of rows) {
    if (v === undefined || v === null || v === '') continue;
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = safeText(v);
    meta.append(dt, dd);
  }
  renderMessage($('d-msg'), r.msg, state.q, false);
  const table = $('d-fields');
  table.textContent = '';
  for (const [k, v] of Object.entries(r.fields || {})) {
    const tr = document.createElement('tr');
    const a = document.createElement('td');
    const b = document.createElement('td');
    a.textContent = safeText(k);
    b.textContent = safeText(typeof v === 'string' ? v : JSON.stringify(v));
    tr.append(a, b);
    table.append(tr);
  }
  $('detail').hidden = false;
}

function hideDetail() {
  $('detail').hidden = true;
  detailRecord = null;
  for (const l of [live.list, hist.list]) if (l.selected) l.select(null);
}

async function copyDetail() {
  if (!detailRecord) return;
  const text = JSON.stringify(detailRecord, null, 2);
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  $('d-copy').textContent = 'Copied';
  setTimeout(() => { $('d-copy').textContent = 'Copy JSON'; }, 1200);
}

// ---- views, filters, footer ----------------------------------------------

function activeList() {
  return state.view === 'history' ? hist.list : state.view === 'files' ? files.list : live.list;
}

function setView(v) {
  if (v === 'files' && $('tab-files').hidden) v = 'live';
  const was = state.view;
  state.view = v;
  for (const t of document.querySelectorAll('.tabs [role=tab]'))
    t.setAttribute('aria-selected', String(t.dataset.view === v));
  for (const name of ['live', 'history', 'files']) $(`view-${name}`).hidden = name !== v;
  document.body.classList.remove('view-live', 'view-history', 'view-files');
  document.body.classList.add(`view-${v}`);
  writeURL();
  if (v === 'history') {
    syncRangeForm();
    if (hist.dirty) histSearch();
  }
  if (v === 'files' && was !== 'files') {
    filesLoad().then(() => { if (state.view === 'files' && state.file) fileOpen(state.file); });
  }
  if (v !== 'files') fileClose();
  hideDetail();
  updateFooter();
}

function updateFooter() {
  const l = activeList();
  $('count').textContent = `${fmtInt(l.length)} line${l.length === 1 ? '' : 's'}`;
  $('last-seq').textContent = state.view === 'live' && live.lastSeq !== null ? `last seq ${live.lastSeq}` : '';
  $('live-empty').hidden = live.list.length > 0 || live.held.length > 0;
}

let applyTimer = 0;
function applyFilters(delay = 0) {
  clearTimeout(applyTimer);
  if (delay) {
    applyTimer = setTimeout(() => applyFilters(0), delay);
    return;
  }
  const input = $('f-topic');
  const topics = splitTopics(input.value);
  const apps = splitTopics($('f-app').value);
  const hosts = splitTopics($('f-host').value);
  const topicErr = topics.length > 16 ? 'at most 16 topic patterns' : topics.map(topicError).find(Boolean);
  const appErr = globError('app', apps);
  const hostErr = globError('host', hosts);
  input.setAttribute('aria-invalid', String(Boolean(topicErr)));
  $('f-app').setAttribute('aria-invalid', String(Boolean(appErr)));
  $('f-host').setAttribute('aria-invalid', String(Boolean(hostErr)));
  const err = topicErr || appErr || hostErr;
  $('f-error').hidden = !err;
  $('f-error').textContent = safeText(err || '');
  if (err) return;
  const level = $('f-level').value;
  const q = $('f-q').value;
  if (topics.join(' ') === state.topics.join(' ') && apps.join(' ') === state.apps.join(' ') &&
      hosts.join(' ') === state.hosts.join(' ') && level === state.level && q === state.q) return;
  state.topics = topics;
  state.apps = apps;
  state.hosts = hosts;
  state.level = level;
  state.q = q;
  writeURL();
  liveStart();
  hist.dirty = true;
  if (state.view === 'history') histSearch();
  else updateHistButtons();
}

function syncFilterForm() {
  $('f-topic').value = state.topics.join(' ');
  $('f-app').value = state.apps.join(' ');
  $('f-host').value = state.hosts.join(' ');
  $('f-level').value = state.level;
  $('f-q').value = state.q;
}

function onKey(ev) {
  const t = ev.target;
  const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
  if (ev.key === 'Escape' && !$('detail').hidden) {
    hideDetail();
    return;
  }
  if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === 'p' && state.view === 'live') {
    setPaused(!live.paused);
    ev.preventDefault();
  } else if (ev.key === 'End') {
    activeList().jumpToLatest();
    ev.preventDefault();
  } else if (ev.key === '/') {
    $('f-q').focus();
    ev.preventDefault();
  }
}

function jumpButton(button, labelEl) {
  return (follow, unseen) => {
    button.hidden = follow;
    if (labelEl) labelEl.textContent = unseen ? `${fmtInt(unseen)} new · jump to latest` : 'Jump to latest';
  };
}

// ---- start -------------------------------------------------------------------

function main() {
  loadToken();
  $('auth-form').addEventListener('submit', onTokenSubmit);
  readURL();
  $('ingest-url').textContent = api('api/log');
  $('keep').value = String(state.keep);
  if ($('keep').value !== String(state.keep)) {
    const o = document.createElement('option');
    o.value = String(state.keep);
    o.textContent = fmtInt(state.keep);
    $('keep').append(o);
    $('keep').value = String(state.keep);
  }

  live.list = new LogList($('live-log'), {
    renderRow: (row, r) => renderRecordRow(row, r, false),
    limit: state.keep,
    onFollow: jumpButton($('jump'), $('jump-label')),
    onSelect: showDetail,
  });
  hist.list = new LogList($('history-log'), {
    renderRow: (row, r) => renderRecordRow(row, r, true),
    limit: 1000000,
    onSelect: showDetail,
  });
  files.list = new LogList($('file-log'), {
    renderRow: renderFileRow,
    rowClass: 'row fline',
    limit: state.keep,
    onFollow: jumpButton($('file-jump'), null),
  });

  syncFilterForm();
  syncRangeForm();
  $('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    applyFilters(0);
  });
  $('f-topic').addEventListener('input', () => applyFilters(600));
  $('f-topic').addEventListener('change', () => applyFilters(0));
  for (const id of ['f-app', 'f-host']) {
    $(id).addEventListener('input', () => applyFilters(600));
    $(id).addEventListener('change', () => applyFilters(0));
  }
  $('f-q').addEventListener('input', () => applyFilters(350));
  $('f-level').addEventListener('change', () => applyFilters(0));
  $('pause').addEventListener('click', () => setPaused(!live.paused));
  $('clear').addEventListener('click', () => {
    live.list.clear();
    live.held = [];
    live.heldCount = 0;
    updatePause();
    updateFooter();
  });
  $('jump').addEventListener('click', () => live.list.jumpToLatest());
  $('file-jump').addEventListener('click', () => files.list.jumpToLatest());
  for (const t of document.querySelectorAll('.tabs [role=tab]'))
    t.addEventListener('click', () => setView(t.dataset.view));

  $('range').addEventListener('submit', (ev) => {
    ev.preventDefault();
    readRangeForm();
    histSearch();
  });
  $('h-range').addEventListener('change', () => {
    if ($('h-range').value === 'custom' && !$('h-since').value)
      $('h-since').value = toLocalInput(new Date(Date.now() - 3600e3).toISOString());
    readRangeForm();
    if (state.range !== 'custom') histSearch();
  });
  $('h-limit').addEventListener('change', () => { readRangeForm(); histSearch(); });
  $('h-older').addEventListener('click', histOlder);
  $('h-newer').addEventListener('click', histNewer);

  $('file-list').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-file]');
    if (b) fileOpen(b.dataset.file);
  });
  $('file-pick').addEventListener('change', () => fileOpen($('file-pick').value));

  $('keep').addEventListener('change', () => {
    state.keep = Number($('keep').value);
    try { localStorage.setItem('logship.keep', String(state.keep)); } catch { /* storage off */ }
    live.list.setLimit(state.keep);
    files.list.setLimit(state.keep);
    updateFooter();
  });
  $('d-close').addEventListener('click', hideDetail);
  $('d-copy').addEventListener('click', copyDetail);
  document.addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', () => {
    // come back at once rather than at the end of a long retry wait
    if (!document.hidden && !live.ws && live.timer) {
      clearTimeout(live.timer);
      live.timer = 0;
      liveConnect(false);
    }
  });

  // the files tab appears once /api/files answered with a root
  const want = state.view;
  setView(want === 'files' ? 'live' : want);
  filesLoad().then((has) => { if (has && want === 'files') setView('files'); });
  liveStart();
  sparkPoll();
  setInterval(() => { if (!document.hidden) sparkPoll(); }, 1000);
}

main();
