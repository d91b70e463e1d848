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
import { VolumeChart, canvasContext } from './chart.js';

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
  // not.topic= not.app= not.host= not.level= (the server's exclusions)
  excl: { topic: [], app: [], host: [], level: [], fields: [] }, // fields: [name, glob] (not.field.NAME=)
  fields: [], // [name, glob] pairs: field.NAME=glob
  order: 'time', // History: 'time' (sort=ts) or 'arrival' (seq)
  cols: ['time', 'level', 'topic', 'message'],
  theme: 'auto', // 'auto' (the system's), 'dark', 'light'
};

const COLUMNS = ['time', 'level', 'topic', 'host', 'app', 'message'];
const LIVE_WINDOW_MS = 15 * 60e3; // what the chart and facets count in Live
const STATS_EVERY_MS = 5000;

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
  const sig = state.cols.join(',');
  if (row.dataset.cols !== sig || !row.children.length) {
    row.textContent = '';
    row.dataset.cols = sig;
    for (const c of state.cols) {
      const el = document.createElement('span');
      el.className = COL_CLASS[c];
      row.append(el);
    }
  }
  const kids = row.children;
  for (let i = 0; i < state.cols.length; i++) {
    const el = kids[i];
    switch (state.cols[i]) {
      case 'time':
        el.textContent = fmtTime(r.ts, wide);
        el.title = safeText(r.ts);
        break;
      case 'level':
        el.className = `lv lv-${lv}`;
        el.textContent = BADGES[lv];
        break;
      case 'topic':
        el.textContent = safeText(r.topic || r.app || '');
        el.title = [r.app && `app ${safeText(r.app)}`, r.host && `host ${safeText(r.host)}`,
          r.pid && `pid ${safeText(r.pid)}`].filter(Boolean).join(' · ');
        break;
      case 'host':
        el.textContent = safeText(r.host || '');
        break;
      case 'app':
        el.textContent = safeText(r.app || '');
        break;
      default:
        renderMessage(el, r.msg, state.q, true);
    }
  }
  row.title = '';
}

const COL_CLASS = { time: 'ts', level: 'lv', topic: 'tp', host: 'hs', app: 'ap', message: 'msg' };
const COL_WIDTH = { level: '6.5ch', topic: 'minmax(8ch, 16ch)', host: 'minmax(6ch, 14ch)',
  app: 'minmax(6ch, 14ch)', message: 'minmax(0, 1fr)' };

// The grid of a list's rows, from the columns chosen (a CSS variable set
// through the CSSOM: the CSP allows no inline style attribute).
function applyCols(el, wide) {
  const w = state.cols.map((c) => (c === 'time' ? (wide ? '18.5ch' : '12.5ch') : COL_WIDTH[c]));
  if (!state.cols.includes('message')) w.push('1fr');
  el.style.setProperty('--cols', w.join(' '));
  const meta = state.cols.filter((c) => c !== 'message').length;
  el.style.setProperty('--cols-phone', `${'auto '.repeat(Math.max(0, meta - 1))}1fr`);
}

// A glob matching exactly s (src/route/glob.h: \*, \? and \\ are literal).
const globExact = (s) => String(s).replace(/[\\*?]/g, (c) => `\\${c}`);

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
  for (const k of ['topic', 'app', 'host']) state.excl[k] = p.getAll(`not.${k}`).filter(Boolean).slice(0, 16);
  state.excl.topic = state.excl.topic.filter((t) => !topicError(t));
  state.excl.level = p.getAll('not.level').flatMap((v) => v.split(',')).filter((l) => LEVELS.includes(l));
  state.fields = [];
  state.excl.fields = [];
  for (const [k, v] of p) {
    if (k.startsWith('field.') && k.length > 6 && state.fields.length < 16) state.fields.push([k.slice(6), v]);
    if (k.startsWith('not.field.') && k.length > 10 && state.excl.fields.length < 16) state.excl.fields.push([k.slice(10), v]);
  }
  state.order = p.get('order') === 'arrival' ? 'arrival' : 'time';
  let savedCols = null;
  try { savedCols = localStorage.getItem('logship.cols'); } catch { /* storage off */ }
  const cols = (p.get('cols') || savedCols || '').split(',').filter((c) => COLUMNS.includes(c));
  if (cols.length) state.cols = COLUMNS.filter((c) => cols.includes(c));
  try { state.theme = localStorage.getItem('logship.theme') || 'auto'; } catch { state.theme = 'auto'; }
  if (!['auto', 'dark', 'light'].includes(state.theme)) state.theme = 'auto';
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
    appendExcl(p);
  }
  if (state.cols.join(',') !== 'time,level,topic,message') p.set('cols', state.cols.join(','));
  if (state.view === 'history') {
    if (state.order === 'arrival') p.set('order', 'arrival');
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
    history.replaceState(null, '', (qs ? `?${qs}` : location.pathname) + location.hash);
  updateExport();
}

function appendExcl(p) {
  for (const [n, v] of state.fields) p.append(`field.${n}`, v);
  for (const k of ['topic', 'app', 'host']) for (const v of state.excl[k]) p.append(`not.${k}`, v);
  for (const [n, v] of state.excl.fields) p.append(`not.field.${n}`, v);
  if (state.excl.level.length) p.set('not.level', state.excl.level.join(','));
}

function filterParams() {
  const p = new URLSearchParams();
  for (const t of state.topics) p.append('topic', t);
  for (const a of state.apps) p.append('app', a);
  for (const h of state.hosts) p.append('host', h);
  if (state.level) p.set('level', state.level);
  if (state.q) p.set('q', state.q);
  appendExcl(p);
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
  wide: false, // a record older than a day is shown: times with dates
};

function liveStart() {
  liveStop();
  live.list.clear();
  live.wide = false;
  applyCols($('live-log'), false);
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
  if (!live.wide) {
    const day = Date.now() - 86400e3;
    if (items.some((r) => r.kind !== 'marker' && parseTs(r.ts).ms < day)) {
      live.wide = true;
      applyCols($('live-log'), true);
      live.list.refresh();
    }
  }
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
  first: null, // the first and last record held (paging anchors)
  last: null,
  context: null, // {seq, bare} while showing a record's context (#seq=N)
  wide: true,
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

// A record's position in time order, "TS_NS,SEQ" (ts_before=/ts_after=).
function posOf(r) {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(r.ts || '');
  if (!m) return `0,${r.seq}`;
  const ns = BigInt(Date.parse(`${m[1]}Z`)) * 1000000n + BigInt((m[2] || '').padEnd(9, '0').slice(0, 9));
  return `${ns},${r.seq}`;
}

// The query's time range as [fromMs, toMs] (null ends: open), the truth the
// status line tells rather than the first and last row shown.
function histRange() {
  const now = Date.now();
  if (state.range in RANGES) return [now - RANGES[state.range], now];
  if (state.range === 'custom')
    return [state.since ? Date.parse(state.since) : null, state.until ? Date.parse(state.until) : now];
  return [stats.level ? stats.level.since_ms : null, stats.level ? stats.level.until_ms : now];
}

// Dates in the rows whenever the range spans more than a day.
function histWide() {
  const [a, b] = histRange();
  return a === null || b - a > 86400e3;
}

function histSummary(extra = '') {
  const items = hist.list.items.filter((r) => r.kind !== 'marker');
  const [a, b] = histRange();
  const range = `${a === null ? 'the oldest record' : fmtLocalFull(a)} → ${fmtLocalFull(b)}`;
  const order = hist.context ? 'arrival order, around one record' : state.order === 'time' ? 'by time' : 'by arrival';
  if (!items.length) return histStatus(`no matching records${hist.hint ? ` · hint: ${hist.hint}` : ''} · ${range}${extra}`);
  const total = stats.level && !hist.context ? ` of ${fmtInt(stats.level.total)}` : '';
  histStatus(`${fmtInt(items.length)}${total} records · ${range} · ${order}${extra}`);
}

function histSet(recs) {
  const wide = histWide() || hist.context;
  applyCols($('history-log'), wide);
  hist.wide = wide;
  hist.list.clear();
  hist.list.append(recs);
  hist.first = recs.length ? recs[0] : null;
  hist.last = recs.length ? recs[recs.length - 1] : null;
}

async function histSearch() {
  hist.dirty = false;
  hist.context = null;
  histStatus('searching…');
  const p = histParams();
  p.set('order', 'desc'); // the newest page of the range first
  if (state.order === 'time') p.set('sort', 'ts');
  let recs;
  try {
    recs = await histFetch(p);
  } catch (e) {
    if (e.name !== 'AbortError') histStatus(`search failed: ${e.message}`);
    updateHistButtons();
    return;
  }
  recs.reverse();
  histSet(recs);
  hist.list.jumpToLatest();
  hist.more = recs.length === state.pageSize;
  histSummary();
  updateHistButtons();
  updateFooter();
}

async function histOlder() {
  if (hist.first === null || hist.busy) return;
  const p = hist.context ? filterParams() : histParams();
  if (hist.context) {
    if (hist.context.bare) for (const k of [...p.keys()]) p.delete(k);
    p.set('limit', state.pageSize);
  }
  p.set('order', 'desc');
  if (state.order === 'time' && !hist.context) {
    p.set('sort', 'ts');
    p.set('ts_before', posOf(hist.first));
  } else {
    p.set('before', hist.first.seq);
  }
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
  if (recs.length) hist.first = recs[0];
  hist.more = recs.length === state.pageSize;
  histSummary(hist.more ? '' : ' · no older records');
  updateHistButtons();
  updateFooter();
}

async function histNewer() {
  if (hist.busy) return;
  const p = hist.context ? filterParams() : histParams();
  if (hist.context) {
    if (hist.context.bare) for (const k of [...p.keys()]) p.delete(k);
    p.set('limit', state.pageSize);
  }
  if (hist.last !== null) {
    if (state.order === 'time' && !hist.context) {
      p.set('sort', 'ts');
      p.set('ts_after', posOf(hist.last));
    } else {
      p.set('after', hist.last.seq);
    }
  } else if (state.order === 'time') {
    p.set('sort', 'ts');
  }
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
    hist.last = recs[recs.length - 1];
    if (hist.first === null) hist.first = recs[0];
  }
  histSummary(recs.length ? '' : ' · nothing newer yet');
  updateHistButtons();
  updateFooter();
}

// #seq=N: record N with 25 records before and 25 after it (arrival
// order), in the current filters, or in none (bare) when the filters do
// not take N.
async function openContext(seq, bare = false) {
  hist.dirty = false;
  hist.context = { seq, bare };
  histStatus(`loading record ${seq} and its context…`);
  const base = bare ? new URLSearchParams() : filterParams();
  const before = new URLSearchParams(base);
  before.set('order', 'desc');
  before.set('before', String(seq + 1));
  before.set('limit', '26');
  const after = new URLSearchParams(base);
  after.set('after', String(seq));
  after.set('limit', '25');
  let older;
  let newer;
  try {
    older = await histFetch(before);
    newer = await histFetch(after);
  } catch (e) {
    if (e.name !== 'AbortError') histStatus(`loading failed: ${e.message}`);
    return;
  }
  const recs = older.reverse().concat(newer);
  const target = recs.find((r) => r.seq === seq);
  if (!target && !bare) {
    openContext(seq, true);
    return;
  }
  histSet(recs);
  hist.more = older.length === 26;
  if (target) {
    hist.list.reveal(target);
    hist.list.select(target);
  }
  histSummary(target ? ` · record ${seq}${bare ? ', without filters' : ''}` : ` · record ${seq} is not stored`);
  updateHistButtons();
  updateFooter();
}

function updateHistButtons() {
  $('h-older').disabled = hist.busy || hist.first === null || !hist.more;
  $('h-newer').disabled = hist.busy || hist.dirty;
}

function syncRangeForm() {
  $('h-range').value = state.range;
  $('range').classList.toggle('is-custom', state.range === 'custom');
  $('h-since').value = toLocalInput(state.since);
  $('h-until').value = toLocalInput(state.until);
  $('h-limit').value = String(state.pageSize);
  $('h-order').value = state.order;
}

function readRangeForm() {
  state.range = $('h-range').value;
  state.since = fromLocalInput($('h-since').value);
  state.until = fromLocalInput($('h-until').value);
  state.pageSize = Number($('h-limit').value) || 500;
  state.order = $('h-order').value === 'arrival' ? 'arrival' : 'time';
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
  const { g, w, h } = canvasContext($('spark'), 120, 24);
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

// ---- volume chart, facets, total (/api/stats) ------------------------------

const stats = {
  level: null, // the last by=level answer (the chart, the level facet)
  facets: {}, // by -> answer
  gen: 0,
  timer: 0,
  missing: false, // the server has no /api/stats
  chart: null,
};

// The range the chart and facets count: History's, or Live's window.
function statsParams(by) {
  const p = filterParams();
  p.set('by', by);
  if (state.view === 'history') {
    if (state.range in RANGES) p.set('since', new Date(Date.now() - RANGES[state.range]).toISOString());
    if (state.range === 'custom') {
      if (state.since) p.set('since', state.since);
      if (state.until) p.set('until', state.until);
    }
  } else {
    p.set('since', new Date(Date.now() - LIVE_WINDOW_MS).toISOString());
  }
  if (by !== 'level') p.set('top', '8');
  return p;
}

async function refreshStats() {
  clearTimeout(stats.timer);
  stats.timer = 0;
  if (state.view === 'files' || stats.missing) return;
  const gen = ++stats.gen;
  const bys = ['level', 'topic', 'app', 'host'];
  let answers;
  try {
    answers = await Promise.all(bys.map((by) => getJSON(api(`api/stats?${statsParams(by)}`))));
  } catch (e) {
    if (gen !== stats.gen) return;
    if (e.status === 404) {
      stats.missing = true; // an older server: no chart, no facets
      $('volume').hidden = true;
      $('facets').hidden = true;
      return;
    }
    $('vol-total').textContent = e.status ? `counts unavailable: ${safeText(e.message)}` : '–';
    scheduleStats();
    return;
  }
  if (gen !== stats.gen) return;
  stats.level = answers[0];
  bys.forEach((by, i) => { stats.facets[by] = answers[i]; });
  drawStats();
  if (state.view === 'history' && !hist.busy && hist.list.length) histSummary();
  scheduleStats();
}

function scheduleStats() {
  clearTimeout(stats.timer);
  // Live keeps counting; History's range is fixed once searched
  if (state.view === 'live') stats.timer = setTimeout(() => { if (!document.hidden) refreshStats(); else scheduleStats(); }, STATS_EVERY_MS);
}

function drawStats() {
  const d = stats.level;
  if (!d) return;
  $('volume').hidden = false;
  $('facets').hidden = false;
  $('vol-total').textContent = `${fmtInt(d.total)} record${d.total === 1 ? '' : 's'}`;
  $('vol-total').dataset.total = String(d.total);
  const span = d.until_ms - d.since_ms;
  const f = (ms) => (span > 86400e3 ? fmtLocalFull(ms) : fmtLocalFull(ms).slice(11));
  $('vol-range').textContent = `${f(d.since_ms)} → ${f(d.until_ms)} · per ${fmtInterval(d.interval_ms)}`;
  stats.chart.set(d);
  const body = $('vol-table').tBodies[0];
  body.textContent = '';
  for (const b of d.buckets) {
    const tr = document.createElement('tr');
    const a = document.createElement('td');
    const c = document.createElement('td');
    a.textContent = fmtLocalFull(b.t);
    c.textContent = String(b.total);
    c.className = 'n';
    tr.append(a, c);
    body.append(tr);
  }
  const legend = $('vol-legend');
  legend.textContent = '';
  for (const [i, name] of LEVELS.entries()) {
    if (!d.totals || !d.totals[name]) continue;
    const sw = document.createElement('span');
    sw.className = `sw lv-${i}`;
    const t = document.createElement('span');
    t.textContent = name;
    legend.append(sw, t);
  }
  renderFacets();
}

function fmtInterval(ms) {
  if (ms % 86400e3 === 0) return `${ms / 86400e3} d`;
  if (ms % 3600e3 === 0) return `${ms / 3600e3} h`;
  if (ms % 60e3 === 0) return `${ms / 60e3} min`;
  return `${ms / 1000} s`;
}

const FACET_NAMES = { level: 'Level', topic: 'Topic', app: 'App', host: 'Host' };

function renderFacets() {
  const box = $('facet-groups');
  box.textContent = '';
  for (const by of ['level', 'topic', 'app', 'host']) {
    const d = stats.facets[by];
    if (!d) continue;
    const g = document.createElement('section');
    g.className = 'facet';
    g.dataset.by = by;
    const h = document.createElement('h3');
    h.textContent = FACET_NAMES[by];
    g.append(h);
    let entries = Object.entries(d.totals || {});
    if (by === 'level') entries.sort((a, b) => LEVELS.indexOf(a[0]) - LEVELS.indexOf(b[0]));
    else entries.sort((a, b) => (a[0] === '_other') - (b[0] === '_other') || b[1] - a[1]);
    const max = Math.max(1, ...entries.map((e) => e[1]));
    for (const [value, n] of entries) {
      const row = document.createElement('div');
      row.className = 'fv';
      const other = value === '_other';
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'fv-in';
      b.dataset.by = by;
      b.dataset.value = value;
      b.disabled = other;
      b.title = other ? 'the other values together' : `show only ${by} ${value} (alt-click: exclude it)`;
      const name = document.createElement('span');
      name.className = 'fv-name';
      name.textContent = other ? 'other' : value === '' ? '(none)' : safeText(value);
      const count = document.createElement('span');
      count.className = 'fv-n';
      count.textContent = fmtInt(n);
      const bar = document.createElement('span');
      bar.className = 'fv-bar';
      // a width from data through the CSSOM, as the chart's colors are
      bar.style.width = `${Math.round((n / max) * 100)}%`;
      b.append(bar, name, count);
      row.append(b);
      if (!other) {
        const x = document.createElement('button');
        x.type = 'button';
        x.className = 'fv-out';
        x.dataset.by = by;
        x.dataset.value = value;
        x.textContent = '−';
        x.setAttribute('aria-label', `exclude ${by} ${value || '(none)'}`);
        x.title = `exclude ${by} ${value}`;
        row.append(x);
      }
      g.append(row);
    }
    box.append(g);
  }
}

// Filter on a value (include) or leave it out (exclude); from a facet or
// from the details. by: level, topic, app, host, or field.NAME.
function filterOn(by, value, exclude) {
  if (by.startsWith('field.')) {
    const name = by.slice(6);
    if (exclude) state.excl.fields = state.excl.fields.concat([[name, globExact(value)]]).slice(0, 16);
    else state.fields = state.fields.filter(([n]) => n !== name).concat([[name, globExact(value)]]);
  } else if (by === 'level') {
    if (!LEVELS.includes(value)) return;
    if (exclude) {
      if (!state.excl.level.includes(value)) state.excl.level.push(value);
    } else {
      // exactly this level: at least it, none more severe
      state.level = value;
      state.excl.level = LEVELS.slice(0, LEVELS.indexOf(value));
    }
  } else if (by === 'topic') {
    if (topicError(value) || /(^|\.)[*#](\.|$)/.test(value)) return;
    if (exclude) state.excl.topic = [...new Set([...state.excl.topic, value])].slice(0, 16);
    else state.topics = [value];
  } else {
    const key = by === 'app' ? 'apps' : 'hosts';
    if (exclude) state.excl[by] = [...new Set([...state.excl[by], globExact(value)])].slice(0, 16);
    else state[key] = [globExact(value)];
  }
  filtersChanged();
}

// The state's filters changed (not from the form): show them, apply them.
function filtersChanged() {
  syncFilterForm();
  renderChips();
  writeURL();
  liveStart();
  hist.dirty = true;
  if (state.view === 'history') histSearch();
  else updateHistButtons();
  refreshStats();
}

function renderChips() {
  const box = $('chips');
  box.textContent = '';
  const chips = [];
  for (const [n, v] of state.fields) chips.push([`field.${n} = ${v}`, () => { state.fields = state.fields.filter((f) => f[0] !== n); }]);
  for (const k of ['topic', 'app', 'host'])
    for (const v of state.excl[k]) chips.push([`not ${k} ${v}`, () => { state.excl[k] = state.excl[k].filter((x) => x !== v); }]);
  for (const [n, v] of state.excl.fields)
    chips.push([`not field.${n} = ${v}`, () => { state.excl.fields = state.excl.fields.filter((f) => f[0] !== n || f[1] !== v); }]);
  if (state.excl.level.length)
    chips.push([`not level ${state.excl.level.join(', ')}`, () => { state.excl.level = []; }]);
  for (const [text, remove] of chips) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip';
    b.textContent = `${safeText(text)} ✕`;
    b.setAttribute('aria-label', `remove the filter ${safeText(text)}`);
    b.addEventListener('click', () => { remove(); filtersChanged(); });
    box.append(b);
  }
  box.hidden = !chips.length;
}

function onZoom(a, b) {
  state.range = 'custom';
  state.since = new Date(a).toISOString();
  state.until = new Date(b).toISOString();
  hist.dirty = true;
  if (state.view !== 'history') setView('history');
  syncRangeForm();
  writeURL();
  histSearch();
  refreshStats();
}

// ---- export -------------------------------------------------------------------

// The current result without a page limit, streamed by the server.
function exportURL(format) {
  const p = histParams();
  p.set('limit', 'all');
  p.set('format', format);
  return api(`api/logs?${p}`);
}

function updateExport() {
  $('x-ndjson').href = exportURL('ndjson');
  $('x-csv').href = exportURL('csv');
}

// With a token the link alone cannot authenticate: fetch, then save.
async function onExport(ev) {
  updateExport();
  if (!auth.token) return; // the browser streams the download itself
  ev.preventDefault();
  const a = ev.currentTarget;
  const r = await authFetch(a.href);
  if (!r.ok) {
    histStatus(`export failed: ${r.status} ${r.statusText}`);
    return;
  }
  const url = URL.createObjectURL(await r.blob());
  const tmp = document.createElement('a');
  tmp.href = url;
  tmp.download = a.id === 'x-csv' ? 'logship.csv' : 'logship.ndjson';
  document.body.append(tmp);
  tmp.click();
  tmp.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---- theme ---------------------------------------------------------------------

function applyTheme() {
  const root = document.documentElement;
  if (state.theme === 'auto') delete root.dataset.theme;
  else root.dataset.theme = state.theme;
  $('theme').setAttribute('aria-label', `Theme: ${state.theme === 'auto' ? 'system' : state.theme}`);
  $('theme').title = `Theme: ${state.theme === 'auto' ? 'system' : state.theme} (t)`;
  sparkDraw();
  if (stats.chart) stats.chart.draw();
}

function cycleTheme() {
  state.theme = { auto: 'dark', dark: 'light', light: 'auto' }[state.theme];
  try { localStorage.setItem('logship.theme', state.theme); } catch { /* storage off */ }
  applyTheme();
}

// ---- columns -------------------------------------------------------------------

function syncCols() {
  for (const box of $('cols-box').querySelectorAll('input'))
    box.checked = state.cols.includes(box.value);
  applyCols($('live-log'), live.wide);
  applyCols($('history-log'), hist.wide);
}

function onColsChange() {
  const picked = [...$('cols-box').querySelectorAll('input:checked')].map((b) => b.value);
  if (!picked.length) {
    syncCols(); // at least one column
    return;
  }
  state.cols = COLUMNS.filter((c) => picked.includes(c));
  try { localStorage.setItem('logship.cols', state.cols.join(',')); } catch { /* storage off */ }
  syncCols();
  writeURL();
  live.list.refresh();
  hist.list.refresh();
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
    const text = document.createElement('span');
    text.textContent = safeText(v);
    dd.append(text);
    if (['level', 'topic', 'app', 'host'].includes(k)) dd.append(...valueButtons(k, String(v), true));
    meta.append(dt, dd);
  }
  renderMessage($('d-msg'), r.msg, state.q, false);
  const table = $('d-fields');
  table.textContent = '';
  for (const [k, v] of Object.entries(r.fields || {})) {
    const tr = document.createElement('tr');
    const a = document.createElement('td');
    const b = document.createElement('td');
    const c = document.createElement('td');
    a.textContent = safeText(k);
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    b.textContent = safeText(text);
    c.className = 'd-act';
    c.append(...valueButtons(`field.${k}`, text, true));
    tr.append(a, b, c);
    table.append(tr);
  }
  const link = permalink(r);
  $('d-link').href = link;
  $('detail').hidden = false;
  if (location.hash !== `#seq=${r.seq}`) history.replaceState(null, '', `${location.pathname}${location.search}#seq=${r.seq}`);
}

// "filter on" and "exclude" for one value of the record.
function valueButtons(by, value, canExclude) {
  const out = [];
  const on = document.createElement('button');
  on.type = 'button';
  on.className = 'btn ghost mini';
  on.textContent = '+';
  on.title = `filter on ${by} = ${value}`;
  on.setAttribute('aria-label', `filter on ${by} ${safeText(value)}`);
  on.dataset.act = 'include';
  on.addEventListener('click', () => { hideDetail(); filterOn(by, value, false); });
  out.push(on);
  if (canExclude) {
    const off = document.createElement('button');
    off.type = 'button';
    off.className = 'btn ghost mini';
    off.textContent = '−';
    off.title = `exclude ${by} = ${value}`;
    off.setAttribute('aria-label', `exclude ${by} ${safeText(value)}`);
    off.dataset.act = 'exclude';
    off.addEventListener('click', () => { hideDetail(); filterOn(by, value, true); });
    out.push(off);
  }
  return out;
}

// The record's permalink: History in the same filters, #seq=N.
function permalink(r) {
  const p = filterParams();
  p.set('view', 'history');
  if (state.cols.join(',') !== 'time,level,topic,message') p.set('cols', state.cols.join(','));
  return new URL(`?${p}#seq=${r.seq}`, location.href).href;
}

// One line, as `logship query` prints it.
function recordLine(r) {
  return [r.ts, (r.level || '').toUpperCase(), r.topic, r.app, r.host, r.msg].filter((x) => x !== undefined && x !== '').join(' ');
}

function hideDetail() {
  $('detail').hidden = true;
  detailRecord = null;
  if (location.hash) history.replaceState(null, '', `${location.pathname}${location.search}`);
  for (const l of [live.list, hist.list]) if (l.selected) l.select(null);
}

async function copyText(text) {
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
}

async function copyDetail(asLine) {
  if (!detailRecord) return;
  const b = $(asLine ? 'd-copy-line' : 'd-copy');
  await copyText(asLine ? recordLine(detailRecord) : JSON.stringify(detailRecord, null, 2));
  b.textContent = 'Copied';
  setTimeout(() => { b.textContent = asLine ? 'Copy line' : 'Copy JSON'; }, 1200);
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
  if (!(v === 'history' && hist.context)) hideDetail();
  updateFooter();
  if (v !== was || !stats.level) refreshStats();
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
  if (!level) state.excl.level = []; // "all" clears the exact-level filters too
  writeURL();
  liveStart();
  hist.dirty = true;
  if (state.view === 'history') histSearch();
  else updateHistButtons();
  renderChips();
  refreshStats();
}

function syncFilterForm() {
  renderChips();
  $('f-topic').value = state.topics.join(' ');
  $('f-app').value = state.apps.join(' ');
  $('f-host').value = state.hosts.join(' ');
  $('f-level').value = state.level;
  $('f-q').value = state.q;
}

function onKey(ev) {
  const t = ev.target;
  const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
  if (ev.key === 'Escape' && !$('keys').hidden) {
    $('keys').hidden = true;
    return;
  }
  if (ev.key === 'Escape' && !$('detail').hidden) {
    hideDetail();
    return;
  }
  if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === 'Enter' && t instanceof Element && t.closest('button, a, summary')) return;
  const list = state.view === 'files' ? null : activeList();
  if ((ev.key === 'j' || ev.key === 'k') && list) {
    const it = list.move(ev.key === 'j' ? 1 : -1);
    if (it && !$('detail').hidden) showDetail(it);
    ev.preventDefault();
  } else if (ev.key === 'Enter' && list && list.selected) {
    showDetail(list.selected);
    ev.preventDefault();
  } else if (ev.key === 'o' && list && (detailRecord || list.selected)) {
    const r = detailRecord || list.selected;
    const link = permalink(r);
    copyText(link);
    history.replaceState(null, '', link);
    showDetail(r);
    ev.preventDefault();
  } else if (ev.key === 't') {
    cycleTheme();
    ev.preventDefault();
  } else if (ev.key === '?') {
    $('keys').hidden = !$('keys').hidden;
    if (!$('keys').hidden) $('keys-close').focus();
    ev.preventDefault();
  } else if (ev.key === 'p' && state.view === 'live') {
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

  applyTheme();
  // on a phone the facets start folded: the records get the room
  if (window.matchMedia('(max-width: 720px)').matches) $('facets').open = false;
  stats.chart = new VolumeChart($('vol-chart'), { onZoom });
  live.list = new LogList($('live-log'), {
    renderRow: (row, r) => renderRecordRow(row, r, live.wide),
    limit: state.keep,
    onFollow: jumpButton($('jump'), $('jump-label')),
    onSelect: showDetail,
  });
  hist.list = new LogList($('history-log'), {
    renderRow: (row, r) => renderRecordRow(row, r, hist.wide),
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
  syncCols();
  $('cols-box').addEventListener('change', onColsChange);
  $('theme').addEventListener('click', cycleTheme);
  $('keys-open').addEventListener('click', () => { $('keys').hidden = false; $('keys-close').focus(); });
  $('keys-close').addEventListener('click', () => { $('keys').hidden = true; });
  $('keys').addEventListener('click', (ev) => { if (ev.target === $('keys')) $('keys').hidden = true; });
  $('facet-groups').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-by]');
    if (!b || b.disabled) return;
    filterOn(b.dataset.by, b.dataset.value, b.classList.contains('fv-out') || ev.altKey);
  });
  for (const id of ['x-ndjson', 'x-csv']) $(id).addEventListener('click', onExport);
  $('d-copy-line').addEventListener('click', () => copyDetail(true));
  $('d-context').addEventListener('click', () => {
    if (!detailRecord) return;
    const seq = detailRecord.seq;
    if (state.view !== 'history') setView('history');
    openContext(seq, true);
  });
  $('d-link').addEventListener('click', (ev) => {
    if (!detailRecord) return;
    ev.preventDefault();
    const r = detailRecord;
    copyText(permalink(r));
    history.replaceState(null, '', permalink(r));
    if (state.view !== 'history') setView('history');
    openContext(r.seq);
  });
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
    refreshStats();
  });
  $('h-range').addEventListener('change', () => {
    if ($('h-range').value === 'custom' && !$('h-since').value)
      $('h-since').value = toLocalInput(new Date(Date.now() - 3600e3).toISOString());
    readRangeForm();
    if (state.range !== 'custom') {
      histSearch();
      refreshStats();
    }
  });
  $('h-limit').addEventListener('change', () => { readRangeForm(); histSearch(); });
  $('h-order').addEventListener('change', () => { readRangeForm(); histSearch(); });
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
  $('d-copy').addEventListener('click', () => copyDetail(false));
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
  const perma = /^#seq=(\d+)$/.exec(location.hash);
  if (perma) {
    // a permalink: the record and its context in History
    hist.context = { seq: Number(perma[1]), bare: false };
    setView('history');
    openContext(Number(perma[1]));
  } else {
    setView(want === 'files' ? 'live' : want);
  }
  filesLoad().then((has) => { if (has && want === 'files') setView('files'); });
  liveStart();
  sparkPoll();
  setInterval(() => { if (!document.hidden) sparkPoll(); }, 1000);
}

main();
