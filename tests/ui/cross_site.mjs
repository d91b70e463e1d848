// cross_site.mjs - a page on another origin, in headless Chromium, tries
// what any web page the user opens could try against logshipd: store
// forged records (form posts, no-cors fetches, a beacon, an <img> GET) and
// read the logs (a WebSocket and an EventSource on /api/tail, a fetch of
// /api/logs). Nothing may be stored and nothing read.
//
// The other origin is http://localhost:<its own port>: a different site
// from the server's 127.0.0.1, as an attacker's page would be. Driven by
// tests/integration/test_ui.py (LOGSHIP_URL names the server). Exits 0 and
// prints OK when every check passed.
import assert from 'node:assert/strict';
import http from 'node:http';

import { BASE, launch, post } from './lib.mjs';

const wsBase = BASE.replace(/^http/, 'ws');
const page = `<!doctype html><meta charset="utf-8"><title>elsewhere</title>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="${BASE}/api/log" enctype="text/plain" target="sink">
<input name="log" value="forged-form"></form>
<script>
const done = (k, v) => { window.result[k] = v; };
window.result = { ws: 'pending', wsData: 0, sse: 'pending', sseData: 0, read: 'pending' };
document.getElementById('f').submit();
fetch('${BASE}/api/log', { method: 'POST', mode: 'no-cors',
  headers: { 'Content-Type': 'text/plain' }, body: 'forged-fetch' }).catch(() => {});
fetch('${BASE}/api/log', { method: 'POST', mode: 'no-cors',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'log=forged-urlenc' })
  .catch(() => {});
navigator.sendBeacon('${BASE}/api/log', new Blob(['forged-beacon'], { type: 'text/plain' }));
const img = new Image();
img.src = '${BASE}/api/log?log=forged-img';
const ws = new WebSocket('${wsBase}/api/tail?n=10');
ws.onopen = () => done('ws', 'open');
ws.onmessage = () => { window.result.wsData++; };
ws.onclose = () => { if (window.result.ws === 'pending') done('ws', 'refused'); };
const es = new EventSource('${BASE}/api/tail?n=10');
es.onmessage = () => { window.result.sseData++; };
es.onerror = () => { es.close(); if (window.result.sse === 'pending') done('sse', 'refused'); };
es.onopen = () => done('sse', 'open');
fetch('${BASE}/api/logs?limit=10').then(() => done('read', 'read'), () => done('read', 'refused'));
</script>`;

const other = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(page);
});
await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
const otherUrl = `http://localhost:${other.address().port}/`;

let code = 1;
const b = await launch();
try {
  // a record the page must not be able to read
  await post([{ msg: 'secret record', app: 'cross-site' }]);
  await b.page.goto(otherUrl);
  await b.page.waitForFunction(() => window.result && window.result.ws !== 'pending' &&
    window.result.sse !== 'pending' && window.result.read !== 'pending', null, { timeout: 20000 });
  // give the form, the beacon and the image time to arrive
  await b.page.waitForTimeout(1000);
  const result = await b.page.evaluate(() => window.result);
  console.log(JSON.stringify(result));
  assert.equal(result.ws, 'refused', 'a WebSocket from another site must not open');
  assert.equal(result.wsData, 0);
  assert.equal(result.sse, 'refused', 'an EventSource from another site must not be served');
  assert.equal(result.sseData, 0);
  assert.equal(result.read, 'refused', 'another site must not read /api/logs');

  const logs = await (await fetch(`${BASE}/api/logs?limit=1000`)).json();
  const msgs = logs.map((r) => r.msg);
  assert.deepEqual(msgs.filter((m) => m.includes('forged')), [], 'forged records stored');
  assert.ok(msgs.includes('secret record'));
  const metrics = await (await fetch(`${BASE}/metrics`)).text();
  const refused = Number(/logship_http_cross_origin_refused_total (\d+)/.exec(metrics)[1]);
  // the form, two fetches, the beacon, the image and the WebSocket at least
  assert.ok(refused >= 6, `cross-origin refusals counted: ${refused}`);
  console.log('OK');
  code = 0;
} catch (e) {
  console.log(e.stack || String(e));
} finally {
  await b.close();
  other.close();
}
process.exit(code);
