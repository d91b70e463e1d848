// cors.mjs - a page on another origin, in headless Chromium, uses logshipd
// the way a web app with CORS would: a preflighted JSON POST to /api/log
// (fetch with Content-Type: application/json and the Logship-Producer and
// Logship-Batch headers of an idempotent producer),
// a read of /api/logs and /healthz, and an EventSource on /api/tail (SSE).
//
// The page is served from http://localhost:<OTHER_PORT> (another site than
// the server's 127.0.0.1). With CORS_EXPECT=allowed the server was started
// with --cors-origin http://localhost:<OTHER_PORT> and everything must
// work; with CORS_EXPECT=refused it was not, and the browser must neither
// send the POST (its preflight fails) nor let the page read anything.
// Driven by tests/integration/test_ui.py; exits 0 and prints OK when every
// check passed.
import assert from 'node:assert/strict';
import http from 'node:http';

import { BASE, launch, request } from './lib.mjs';

const expect = process.env.CORS_EXPECT || 'allowed';
const otherPort = Number(process.env.OTHER_PORT);
const tag = `cors-${Date.now()}`;
const page = `<!doctype html><meta charset="utf-8"><title>app</title>
<script>
const out = (k, v) => { window.result[k] = v; };
window.result = { post: 'pending', read: 'pending', health: 'pending', sse: 'pending' };
(async () => {
  try {
    const r = await fetch('${BASE}/api/log', { method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Logship-Producer': 'page-${tag}',
        'Logship-Batch': '1' },
      body: JSON.stringify({ msg: '${tag} posted', app: 'cors-page' }) });
    out('post', { status: r.status, body: await r.json() });
  } catch (e) { out('post', 'refused: ' + e.message); }
  try {
    const r = await fetch('${BASE}/api/logs?limit=100');
    out('read', { status: r.status, msgs: (await r.json()).map((x) => x.msg) });
  } catch (e) { out('read', 'refused: ' + e.message); }
  try {
    const r = await fetch('${BASE}/healthz');
    out('health', (await r.json()).status);
  } catch (e) { out('health', 'refused: ' + e.message); }
  const es = new EventSource('${BASE}/api/tail?n=10');
  es.addEventListener('records', (ev) => {
    const data = JSON.parse(ev.data);
    const recs = Array.isArray(data) ? data : data.records || [];
    if (recs.some((x) => x.msg === '${tag} posted')) { out('sse', 'record'); es.close(); }
  });
  es.onerror = () => { if (window.result.sse === 'pending') { out('sse', 'refused'); es.close(); } };
})();
</script>`;

const other = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(page);
});
await new Promise((resolve) => other.listen(otherPort, '127.0.0.1', resolve));
const otherUrl = `http://localhost:${otherPort}/`;

let code = 1;
const b = await launch();
try {
  await b.page.goto(otherUrl);
  await b.page.waitForFunction(() => window.result && Object.values(window.result)
    .every((v) => v !== 'pending'), null, { timeout: 20000 })
    .catch(async (e) => {
      console.log(JSON.stringify(await b.page.evaluate(() => window.result)));
      throw e;
    });
  const result = await b.page.evaluate(() => window.result);
  console.log(JSON.stringify(result));
  const stored = JSON.parse((await request('GET', '/api/logs?limit=100')).text)
    .filter((r) => r.app === 'cors-page').map((r) => r.msg);
  if (expect === 'allowed') {
    assert.equal(result.post.status, 200, 'the preflighted JSON POST is answered');
    assert.equal(result.post.body.accepted, 1);
    assert.equal(result.read.status, 200);
    assert.deepEqual(result.read.msgs, [`${tag} posted`], 'the page reads /api/logs');
    assert.equal(result.health, 'ok');
    assert.equal(result.sse, 'record', 'the page reads the SSE live tail');
    assert.deepEqual(stored, [`${tag} posted`]);
  } else {
    assert.match(String(result.post), /^refused/, 'no CORS: the POST must fail');
    assert.match(String(result.read), /^refused/, 'no CORS: /api/logs must not be readable');
    assert.match(String(result.health), /^refused/);
    assert.equal(result.sse, 'refused');
    assert.deepEqual(stored, [], 'a failed preflight must not store anything');
  }
  console.log('OK');
  code = 0;
} catch (e) {
  console.log(e.stack || String(e));
} finally {
  await b.close();
  other.close();
}
process.exit(code);
