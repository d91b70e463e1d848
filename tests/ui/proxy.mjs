// proxy.mjs - the web UI behind a reverse proxy under a path prefix, in
// headless Chromium: nginx (started by tests/integration/test_ui.py on its
// own port and directory) passes http://127.0.0.1:<port>/logs/ to
// logshipd's /, WebSocket upgrades included. PROXY_URL names the page.
//
// Checks: the page and its files load under /logs/; the live view connects
// (state live) over the proxied WebSocket; a record posted through the proxy
// appears live; the history view finds it; the files view (a --tail-root)
// lists and follows a file; the footer's ingest hint names the proxied URL;
// the brand link stays under the prefix; and every request the page made
// went to /logs/..., none to the host's root. Exits 0 and prints OK.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { launch } from './lib.mjs';

const PROXY = process.env.PROXY_URL; // http://127.0.0.1:<nginx>/logs/
const TAIL_ROOT = process.env.LOGSHIP_TAIL_ROOT;
const origin = new URL(PROXY).origin;
const prefix = new URL(PROXY).pathname; // "/logs/"
const tag = `proxy${Date.now()}`;

function postVia(url, records) {
  const body = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false,
      headers: { 'Content-Type': 'application/x-ndjson' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const msgsIn = (page, list) => page.$$eval(`${list} .row[data-seq] .msg`, (r) => r.map((e) => e.textContent));

let code = 1;
const b = await launch();
const requests = [];
b.page.on('request', (r) => requests.push(r.url()));
b.page.on('websocket', (ws) => requests.push(ws.url()));
try {
  await b.page.goto(PROXY);
  await b.page.waitForSelector('#conn[data-state="live"]', { timeout: 15000 });
  console.log('live view connected through the proxy');

  // a record posted through the proxy appears live
  const r = await postVia(`${PROXY}api/log`, [{ msg: `${tag} live`, app: 'proxy' }]);
  assert.equal(r.status, 200, r.text);
  await b.page.waitForFunction((t) => [...document.querySelectorAll('#live-log .row[data-seq] .msg')]
    .some((m) => m.textContent === t), `${tag} live`, { timeout: 5000 });
  console.log('posted record shown live');

  // the ingest hint and the brand link are under the prefix
  assert.equal(await b.page.textContent('#ingest-url'), `${PROXY}api/log`);
  const brand = await b.page.$eval('a.brand', (a) => a.href);
  assert.equal(brand, PROXY);

  // history finds it
  await b.page.click('#tab-history');
  await b.page.selectOption('#h-range', 'all');
  await b.page.fill('#f-q', tag);
  await b.page.click('#h-search');
  await b.page.waitForFunction((t) => [...document.querySelectorAll('#history-log .row[data-seq] .msg')]
    .some((m) => m.textContent === t), `${tag} live`, { timeout: 5000 });
  assert.deepEqual(await msgsIn(b.page, '#history-log'), [`${tag} live`]);
  const url = new URL(b.page.url());
  assert.equal(url.pathname, prefix, 'the view\'s URL stays under the prefix');
  assert.equal(url.searchParams.get('view'), 'history');
  console.log('history query works');

  // a reload of that URL (a shared link) opens the same view
  await b.page.reload();
  await b.page.waitForFunction((t) => [...document.querySelectorAll('#history-log .row[data-seq] .msg')]
    .some((m) => m.textContent === t), `${tag} live`, { timeout: 5000 });

  // files
  if (TAIL_ROOT) {
    await b.page.goto(PROXY);
    await b.page.waitForSelector('#tab-files:not([hidden])', { timeout: 5000 });
    await b.page.click('#tab-files');
    await b.page.click('button[data-file="logs/app.log"]');
    await b.page.waitForFunction(() => document.querySelectorAll('#file-log .row.fline').length >= 2,
      null, { timeout: 5000 });
    await b.page.waitForFunction(() => document.querySelector('#file-state').textContent === 'following');
    fs.appendFileSync(path.join(TAIL_ROOT, 'app.log'), `${tag} appended\n`);
    await b.page.waitForFunction((t) => [...document.querySelectorAll('#file-log .row.fline')]
      .some((e) => e.textContent === t), `${tag} appended`, { timeout: 5000 });
    console.log('files view follows a file through the proxy');
  }

  // the spark line's /metrics poll happens once a second: let it run
  await b.page.waitForTimeout(1200);
  const outside = requests.filter((u) => {
    const x = new URL(u);
    return !(x.host === new URL(origin).host && x.pathname.startsWith(prefix));
  });
  assert.deepEqual(outside, [], 'requests outside the prefix');
  for (const want of ['ui/app.js', 'ui/app.css', 'api/tail', 'healthz', 'api/logs', 'metrics'])
    assert.ok(requests.some((u) => new URL(u).pathname.startsWith(prefix + want)), want);
  assert.ok(requests.some((u) => u.startsWith(`ws://${new URL(origin).host}${prefix}api/tail`)));
  if (TAIL_ROOT) {
    assert.ok(requests.some((u) => u.startsWith(`ws://${new URL(origin).host}${prefix}api/files/`)));
  }
  const csp = await b.page.evaluate(() => window.__cspViolations || []);
  assert.deepEqual(csp, [], 'CSP violations');
  assert.deepEqual(b.problems, [], 'page errors');
  console.log(`${requests.length} requests, all under ${prefix}`);
  console.log('OK');
  code = 0;
} catch (e) {
  console.log(e.stack || String(e));
  console.log(JSON.stringify(requests.slice(-20)));
} finally {
  await b.close();
}
process.exit(code);
