// restart.mjs - the page across a server restart: it must reconnect by
// itself, resume with after=<last seq> and show every record exactly once.
//
// Driven by tests/integration/test_ui.py, which owns the server. The two
// talk in lines: this script prints STOP and waits for STOPPED on stdin,
// then (once the page has noticed) prints START and waits for STARTED
// (the server is back and records were posted while the page was away).
// Exits 0 when every check passed. Also checks that the files tab stays
// hidden on a server without --tail-root.
import assert from 'node:assert/strict';
import readline from 'node:readline';

import { BASE, launch, post, screenshot, shownMessages, shownSeqs } from './lib.mjs';

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function handshake(say, expect) {
  console.log(say);
  const { value, done } = await lines.next();
  assert.ok(!done && value.trim() === expect, `expected ${expect}, got ${value}`);
}

const tag = process.env.RESTART_TAG || 'rs';
const batch = (name, n) => Array.from({ length: n }, (_, i) => ({ msg: `${tag} ${name}${i}`, app: 'restart' }));

// tall enough that every record of the test is on screen at once
const b = await launch({ viewport: { width: 1280, height: 2400 } });
const { page } = b;
let code = 1;
try {
  await page.goto(`${BASE}/?q=${tag}`);
  await page.waitForSelector('#conn[data-state="live"]');
  assert.equal(await page.isHidden('#tab-files'), true, 'no files tab without --tail-root');

  await post(batch('A', 20));
  await page.waitForFunction((t) => [...document.querySelectorAll('#live-log .msg')]
    .some((m) => m.textContent === `${t} A19`), tag);

  await handshake('STOP', 'STOPPED');
  await page.waitForSelector('#conn[data-state="reconnecting"]', { timeout: 10000 });
  // a record the page may not show twice, posted by the test while it waits
  await handshake('START', 'STARTED');
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 15000 });
  await post(batch('C', 20));

  const want = [...batch('A', 20), ...batch('B', 20), ...batch('C', 20)].map((r) => r.msg);
  await page.waitForFunction((n) => document.querySelectorAll('#live-log .row[data-seq]:not([hidden])').length >= n &&
    document.querySelector('#count').textContent === `${n} lines`, want.length, { timeout: 10000 });
  const got = await shownMessages(page);
  assert.deepEqual(got, want, 'every record once, in order');
  const seqs = await shownSeqs(page);
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `seq order at ${i}`);
  await screenshot(page, 'ui-after-restart.png');
  assert.deepEqual(b.problems, []);
  code = 0;
  console.log('OK');
} catch (e) {
  console.error(e);
  await screenshot(page, 'ui-restart-failure.png').catch(() => {});
} finally {
  await b.close();
  process.exit(code);
}
