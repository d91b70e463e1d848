// auth.mjs - the web UI against a logshipd with --auth-file, in headless
// Chromium: the page asks for a token (a small form, after the API's 401),
// refuses a wrong one and asks again, keeps the right one in this tab's
// sessionStorage only, sends it as Bearer, and opens the live tail's
// WebSocket with a ticket (never the token in a URL). The token is limited
// to web.#: the live view, the history, the chart's count and an export
// show web records only.
//
// Driven by tests/integration/test_ui.py (LOGSHIP_URL names the server;
// READER_TOKEN may read and tail web.#, WRITER_TOKEN writes every topic).
// Exits 0 and prints OK when every check passed.
import assert from 'node:assert/strict';

import { BASE, launch, request, screenshot, shownMessages } from './lib.mjs';

const READER = process.env.READER_TOKEN;
const WRITER = process.env.WRITER_TOKEN;

async function post(records) {
  const r = await request('POST', '/api/log', {
    headers: { 'Content-Type': 'application/x-ndjson', Authorization: `Bearer ${WRITER}` },
    body: records.map((x) => JSON.stringify(x)).join('\n') + '\n',
  });
  if (r.status !== 200) throw new Error(`POST /api/log: ${r.status} ${r.text}`);
}

async function waitMessage(page, text, list = '#live-log', timeout = 10000) {
  await page.waitForFunction(
    ([l, t]) => [...document.querySelectorAll(`${l} .row[data-seq] .msg`)].some((m) => m.textContent === t),
    [list, text], { timeout });
}

let code = 1;
const b = await launch();
try {
  const page = b.page;
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), auth: r.headers().authorization || '' }));

  // without a token the page asks for one
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#auth:not([hidden])', { timeout: 10000 });
  await page.waitForSelector('#conn[data-state="locked"]', { timeout: 5000 });
  assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'auth-token');
  await screenshot(page, 'ui-token-prompt.png');

  // a wrong token: asked again, with why
  await page.fill('#auth-token', 'not-a-token-at-all-0000');
  await page.click('#auth-submit');
  await page.waitForFunction(() => !document.querySelector('#auth').hidden &&
    /not accepted/.test(document.querySelector('#auth-error').textContent), null, { timeout: 10000 });

  // the right one: the live view starts
  await page.fill('#auth-token', READER);
  await page.press('#auth-token', 'Enter');
  await page.waitForSelector('#auth', { state: 'hidden', timeout: 10000 });
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 10000 });

  await post([{ msg: 'ui web one', topic: 'web.ui' }, { msg: 'ui db one', topic: 'db.ui' },
    { msg: 'ui web two', topic: 'web.ui' }]);
  await waitMessage(page, 'ui web two');
  let shown = await shownMessages(page);
  assert.ok(shown.includes('ui web one'), shown.join('|'));
  assert.ok(!shown.some((m) => m.startsWith('ui db')), `a record outside web.#: ${shown.join('|')}`);

  // the token: in this tab's sessionStorage, never in localStorage or a URL
  assert.equal(await page.evaluate(() => sessionStorage.getItem('logship.token')), READER);
  const local = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  assert.ok(!local.includes(READER), 'the token in localStorage');
  assert.ok(sockets.length >= 1, 'no WebSocket opened');
  for (const u of sockets) {
    assert.ok(!u.includes(READER), `the token in a WebSocket URL: ${u}`);
    assert.match(u, /[?&]ticket=[0-9a-f]{64}/, u);
  }
  for (const r of requests) assert.ok(!r.url.includes(READER), `the token in a URL: ${r.url}`);
  // the calls made with a token send it as Bearer (the wrong one first)
  const apiCalls = requests.filter((r) => /\/api\/(logs|files|session)/.test(r.url) && r.auth);
  assert.ok(apiCalls.every((r) => /^Bearer /.test(r.auth)), JSON.stringify(apiCalls));
  assert.ok(apiCalls.some((r) => r.auth === `Bearer ${READER}`), JSON.stringify(apiCalls));

  // history: the same limit
  await page.click('#tab-history');
  await page.click('#h-search');
  await waitMessage(page, 'ui web two', '#history-log');
  shown = await shownMessages(page, '#history-log');
  assert.ok(!shown.some((m) => m.startsWith('ui db')), shown.join('|'));

  // the chart's count and the export go with the token, and see web.# only
  await page.waitForFunction(() => Number(document.querySelector('#vol-total').dataset.total) === 2, null, { timeout: 10000 });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#x-ndjson')]);
  const fs = await import('node:fs');
  const exported = fs.readFileSync(await dl.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l).msg);
  assert.deepEqual(exported, ['ui web one', 'ui web two']);

  // a reload keeps the token (same tab): no prompt
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 10000 });
  assert.equal(await page.isHidden('#auth'), true);
  await waitMessage(page, 'ui web one');

  // another tab does not have it
  const other = await b.context.newPage();
  await other.goto(`${BASE}/`);
  await other.waitForSelector('#auth:not([hidden])', { timeout: 10000 });
  assert.equal(await other.evaluate(() => sessionStorage.getItem('logship.token')), null);
  await other.close();

  assert.deepEqual(b.problems, [], 'dialogs, page errors or CSP reports');
  assert.deepEqual(await page.evaluate(() => window.__cspViolations || []), [], 'CSP violations');
  console.log('OK');
  code = 0;
} catch (e) {
  console.error(e);
  await screenshot(b.page, 'ui-token-failure.png').catch(() => {});
} finally {
  await b.close();
}
process.exit(code);
