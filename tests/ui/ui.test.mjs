// ui.test.mjs - logshipd's web UI end to end in headless Chromium.
//
// Run by tests/integration/test_ui.py against a real logshipd started with
// a --tail-root (LOGSHIP_URL, LOGSHIP_TAIL_ROOT); the server restart test is
// restart.mjs. Each test posts records with its own marker so tests do not
// see each other's data.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { BASE, launch, post, request, screenshot, shownMessages, shownSeqs, sleep } from './lib.mjs';

const run = promisify(execFile);
const TAIL_ROOT = process.env.LOGSHIP_TAIL_ROOT;

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

// A fresh page on the UI at `query`, its problems checked at the end.
async function open(t, query = '', opts = {}) {
  const b = opts.viewport ? await launch(opts) : browser;
  const page = b === browser ? await browser.context.newPage() : b.page;
  const problems = b === browser ? await watchPage(page) : b.problems;
  t.after(async () => {
    const csp = await page.evaluate(() => window.__cspViolations || []).catch(() => []);
    if (b === browser) await page.close();
    else await b.close();
    assert.deepEqual(problems, [], 'dialogs, page errors or CSP reports');
    assert.deepEqual(csp, [], 'CSP violations');
  });
  await page.goto(`${BASE}/${query}`);
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 10000 });
  return page;
}

async function watchPage(page) {
  const problems = [];
  page.on('dialog', async (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // awaited: the page must not load before the listener is in place
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return problems;
}

async function waitForMessage(page, text, timeout = 5000, list = '#live-log') {
  await page.waitForFunction(
    ([l, t]) => [...document.querySelectorAll(`${l} .row[data-seq] .msg`)].some((m) => m.textContent === t),
    [list, text], { timeout });
}

// Waits until the rows show exactly `want` (the page renders on animation
// frames: a check right after one record appears may see a stale frame).
async function expectShown(page, want, list = '#live-log', timeout = 5000) {
  try {
    await page.waitForFunction(([l, w]) => {
      const got = [...document.querySelectorAll(`${l} .row[data-seq]:not([hidden]) .msg`)].map((m) => m.textContent);
      return JSON.stringify(got) === JSON.stringify(w);
    }, [list, want], { timeout });
  } catch {
    // fall through to a readable failure
  }
  assert.deepEqual(await shownMessages(page, list), want);
}

const footerCount = (page) => page.$eval('#count', (e) => e.textContent);

describe('the page', () => {
  test('GET / is the page for a browser, JSON for curl; assets carry CSP and ETags', async () => {
    const html = await request('GET', '/', { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    assert.equal(html.status, 200);
    assert.match(html.headers['content-type'], /^text\/html/);
    assert.match(html.headers['content-security-policy'], /script-src 'self'/);
    assert.match(html.headers['content-security-policy'], /connect-src 'self';/);
    assert.equal(html.headers['x-content-type-options'], 'nosniff');
    const etag = html.headers.etag;
    assert.match(etag, /^"[0-9a-f]{20}"$/);
    // relative, so that the page works under a proxy's prefix too (proxy.mjs)
    assert.match(html.text, /<script type="module" src="ui\/app.js"><\/script>/);
    assert.doesNotMatch(html.text, /(src|href)="\//, 'no absolute URL in the page');
    const again = await request('GET', '/', { headers: { Accept: 'text/html', 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.text, '');

    const { stdout } = await run('curl', ['-s', `${BASE}/`]);
    assert.ok(JSON.parse(stdout).endpoints.includes('GET /api/tail'));
    const json = await request('GET', '/', { headers: { Accept: 'application/json' } });
    assert.match(json.headers['content-type'], /^application\/json/);

    const js = await request('GET', '/ui/app.js');
    assert.equal(js.status, 200);
    assert.match(js.headers['content-type'], /^text\/javascript/);
    assert.equal(js.headers['cache-control'], 'no-cache');
    for (const name of ['ansi.js', 'loglist.js', 'chart.js', 'app.css', 'favicon.svg'])
      assert.equal((await request('GET', `/ui/${name}`)).status, 200, name);
    assert.equal((await request('GET', '/ui/nope.js')).status, 404);
  });

  test('the CSP is in force: an injected inline script does not run', async (t) => {
    const page = await open(t);
    const ran = await page.evaluate(async () => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true';
      document.body.append(s);
      await new Promise((r) => setTimeout(r, 100));
      const seen = window.__cspViolations.splice(0); // expected: not a failure
      return { ran: Boolean(window.__inlineRan), seen };
    });
    assert.equal(ran.ran, false);
    assert.ok(ran.seen.some((v) => v.startsWith('script-src')), JSON.stringify(ran.seen));
  });
});

describe('live', () => {
  test('a record posted with curl appears within 1 s, newest at the bottom', async (t) => {
    const page = await open(t);
    const msg = `curl-live-${Date.now()}`;
    await run('curl', ['-s', '-d', `log=${msg}`, '-d', 'level=warning', '-d', 'app=curlapp', `${BASE}/api/log`]);
    const t0 = Date.now();
    await waitForMessage(page, msg, 1000);
    const took = Date.now() - t0;
    assert.ok(took <= 1000, `took ${took} ms`);
    const row = page.locator('#live-log .row[data-seq]', { hasText: msg });
    assert.equal(await row.locator('.lv').textContent(), 'WARN');
    assert.ok((await row.locator('.lv').getAttribute('class')).includes('lv-4'));
    assert.equal(await row.locator('.tp').textContent(), 'curlapp.warning');
    assert.match(await row.locator('.ts').textContent(), /^\d\d:\d\d:\d\d\.\d{3}$/);
    const msgs = await shownMessages(page);
    assert.equal(msgs[msgs.length - 1], msg, 'newest at the bottom');
  });

  test('filters apply to the stream and round-trip through the URL', async (t) => {
    const tag = `flt${Date.now()}`;
    await post([
      { msg: `${tag} web info`, topic: 'web.api', level: 'info' },
      { msg: `${tag} web error`, topic: 'web.api', level: 'error' },
      { msg: `${tag} db error`, topic: 'db.slow', level: 'error' },
      { msg: `other web error`, topic: 'web.api', level: 'error' },
    ]);
    const page = await open(t);
    await page.fill('#f-topic', 'web.#');
    await page.selectOption('#f-level', 'warning');
    await page.fill('#f-q', tag);
    await page.press('#f-q', 'Enter');
    await page.waitForFunction(() => location.search.includes('level=warning') && location.search.includes('q=flt'));
    const url = new URL(page.url());
    assert.deepEqual(url.searchParams.getAll('topic'), ['web.#']);
    assert.equal(url.searchParams.get('level'), 'warning');
    assert.equal(url.searchParams.get('q'), tag);
    await expectShown(page, [`${tag} web error`]);
    // the search term is highlighted
    assert.equal(await page.locator('#live-log .row[data-seq] .msg mark').first().textContent(), tag);

    // live records go through the same filter
    await post([{ msg: `${tag} db crit`, topic: 'db.x', level: 'crit' },
      { msg: `${tag} web crit`, topic: 'web.y.z', level: 'crit' }]);
    await expectShown(page, [`${tag} web error`, `${tag} web crit`]);

    // reload: the same view from the URL alone
    await page.reload();
    await page.waitForSelector('#conn[data-state="live"]');
    assert.equal(await page.inputValue('#f-topic'), 'web.#');
    assert.equal(await page.inputValue('#f-level'), 'warning');
    assert.equal(await page.inputValue('#f-q'), tag);
    await expectShown(page, [`${tag} web error`, `${tag} web crit`]);

    // a shared link with several patterns
    await page.goto(`${BASE}/?topic=db.*&topic=nomatch.%23&level=error&q=${tag}`);
    await page.waitForSelector('#conn[data-state="live"]');
    assert.equal(await page.inputValue('#f-topic'), 'db.* nomatch.#');
    await expectShown(page, [`${tag} db error`, `${tag} db crit`]);

    // a bad pattern is refused in the page, the stream stays as it was
    await page.fill('#f-topic', 'web..x');
    await page.press('#f-topic', 'Enter');
    assert.equal(await page.getAttribute('#f-topic', 'aria-invalid'), 'true');
    assert.match(await page.textContent('#f-error'), /empty word/);
    assert.equal(new URL(page.url()).searchParams.getAll('topic').join(' '), 'db.* nomatch.#');
  });

  test('app and host filters apply, round-trip through the URL; a hint shows', async (t) => {
    const tag = `ah${Date.now()}`;
    await post([
      { msg: `${tag} a`, app: 'web', host: 'web-1', topic: `${tag}.x` },
      { msg: `${tag} b`, app: 'api-gw', host: 'web-22' },
      { msg: `${tag} c`, app: 'db', host: 'web-2' },
      { msg: `${tag} e`, app: 'webapp', host: 'web-3' },
    ]);
    const page = await open(t);
    await page.fill('#f-app', 'web api-*');
    await page.fill('#f-q', tag);
    await page.press('#f-q', 'Enter');
    await expectShown(page, [`${tag} a`, `${tag} b`]);
    await page.fill('#f-host', 'web-?');
    await page.press('#f-host', 'Enter');
    await page.waitForFunction(() => location.search.includes('host='));
    const url = new URL(page.url());
    assert.deepEqual(url.searchParams.getAll('app'), ['web', 'api-*']);
    assert.deepEqual(url.searchParams.getAll('host'), ['web-?']);
    await expectShown(page, [`${tag} a`]);
    // live records go through the same globs
    await post([{ msg: `${tag} d`, app: 'api-x', host: 'web-3' },
      { msg: `${tag} f`, app: 'api-x', host: 'web-33' }]);
    await expectShown(page, [`${tag} a`, `${tag} d`]);
    // reload: the same view from the URL alone
    await page.reload();
    await page.waitForSelector('#conn[data-state="live"]');
    assert.equal(await page.inputValue('#f-app'), 'web api-*');
    assert.equal(await page.inputValue('#f-host'), 'web-?');
    await expectShown(page, [`${tag} a`, `${tag} d`]);
    // a pattern the server would refuse is refused in the page
    await page.fill('#f-host', 'x'.repeat(300));
    await page.press('#f-host', 'Enter');
    assert.equal(await page.getAttribute('#f-host', 'aria-invalid'), 'true');
    assert.match(await page.textContent('#f-error'), /at most 255 bytes/);
    assert.deepEqual(new URL(page.url()).searchParams.getAll('host'), ['web-?']);

    // a topic without a wildcard that matches nothing, where TAG.# would
    const hint = `topic '${tag}' has no wildcard: did you mean '${tag}.#'?`;
    await page.goto(`${BASE}/?topic=${tag}`);
    await page.waitForFunction((h) => document.querySelector('#live-banner').textContent.includes(h), hint);
    assert.equal(await page.isVisible('#live-banner'), true);
    await page.click('#tab-history');
    await page.waitForFunction((h) => document.querySelector('#h-status').textContent.includes(h), hint);
    assert.match(await page.textContent('#h-status'), /^no matching records · hint: /);
  });

  test('pause counts what arrives and resume shows it', async (t) => {
    const tag = `pause${Date.now()}`;
    const page = await open(t, `?q=${tag}`);
    await post([{ msg: `${tag} before` }]);
    await waitForMessage(page, `${tag} before`);
    await page.click('#pause');
    assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'true');
    await post(Array.from({ length: 7 }, (_, i) => ({ msg: `${tag} while ${i}` })));
    await page.waitForFunction(() => document.querySelector('#pause-count').textContent === '7 new');
    assert.equal(await page.isVisible('#pause-count'), true);
    await sleep(300);
    assert.deepEqual(await shownMessages(page), [`${tag} before`], 'nothing shown while paused');
    await post([{ msg: `${tag} while 7` }]);
    await page.waitForFunction(() => document.querySelector('#pause-count').textContent === '8 new');

    await page.click('#pause');
    await expectShown(page, [`${tag} before`, ...Array.from({ length: 8 }, (_, i) => `${tag} while ${i}`)]);
    assert.equal(await page.isVisible('#pause-count'), false);
    assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'false');

    // the keyboard does the same
    await page.click('#live-log');
    await page.keyboard.press('p');
    await post([{ msg: `${tag} key` }]);
    await page.waitForFunction(() => document.querySelector('#pause-count').textContent === '1 new');
    await page.keyboard.press('p');
    await waitForMessage(page, `${tag} key`);
  });

  test('markup in a message is text, ANSI colors are colors, no script runs', async (t) => {
    const tag = `xss${Date.now()}`;
    const page = await open(t, `?q=${tag}`);
    const evil = `<img src=x onerror=alert(1)> ${tag}`;
    const evil2 = `<script>alert(2)</script><b onmouseover=alert(3)>bold?</b> ${tag}`;
    const ansi = `\x1b[31mred\x1b[0m plain \x1b[1;32mgreen bold\x1b[0m \x1b[38;5;208morange\x1b[39m ` +
      `\x1b[38;2;10;20;30mrgb\x1b[0m \x1b[44mon blue\x1b[49m \x1b[2J\x1b]0;title\x07\x1b[Kend ${tag}`;
    await post([{ msg: evil, level: 'error' }, { msg: evil2 }, { msg: ansi, app: 'color' }]);
    const ansiText = `red plain green bold orange rgb on blue end ${tag}`;
    await expectShown(page, [evil, evil2, ansiText]);
    const log = page.locator('#live-log');
    assert.equal(await log.locator('img, script, b').count(), 0, 'no element from a message');

    const span = async (text) => page.evaluate((txt) => {
      const s = [...document.querySelectorAll('#live-log .msg span')].find((e) => e.textContent === txt);
      if (!s) return null;
      const cs = getComputedStyle(s);
      return { cls: s.className, color: cs.color, bg: cs.backgroundColor, weight: cs.fontWeight };
    }, text);
    const a1 = await page.evaluate(() => {
      const probe = document.createElement('span');
      probe.className = 'a-fg-1';
      document.body.append(probe);
      const c = getComputedStyle(probe).color;
      probe.remove();
      return c;
    });
    const red = await span('red');
    assert.equal(red.cls, 'a-fg-1');
    assert.equal(red.color, a1);
    assert.notEqual(red.color, await page.$eval('#live-log .msg', (e) => getComputedStyle(e).color));
    const green = await span('green bold');
    assert.equal(green.cls, 'a-b a-fg-2');
    assert.equal(green.weight, '700');
    assert.equal((await span('orange')).color, 'rgb(255, 135, 0)');
    assert.equal((await span('rgb')).color, 'rgb(10, 20, 30)');
    assert.equal((await span('on blue')).cls, 'a-bg-4');

    // the detail panel shows the message the same safe way
    await log.locator('.row[data-seq]', { hasText: 'onerror' }).click();
    await page.waitForSelector('#detail:not([hidden])');
    assert.equal(await page.textContent('#d-msg'), evil);
    assert.equal(await page.locator('#detail img').count(), 0);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#detail', { state: 'hidden' });
    await sleep(200); // an onerror would have fired by now
  });

  test('a long or multi-line message is one row; the details show all of it', async (t) => {
    const tag = `long${Date.now()}`;
    const page = await open(t, `?q=${tag}`);
    const long = `${tag} ${'x'.repeat(5000)} end`;
    await post([{ msg: long }, { msg: `${tag} line one\nline two\r\nline three\x07` }]);
    await page.waitForFunction(() => document.querySelectorAll('#live-log .row[data-seq]:not([hidden])').length === 2);
    const [a, b] = await shownMessages(page);
    assert.equal(a.length, 2001);
    assert.ok(a.startsWith(`${tag} xxx`) && a.endsWith('x…'));
    assert.equal(b, `${tag} line one ↵ line two ↵ line three\u2407`);
    const heights = await page.$$eval('#live-log .row[data-seq]:not([hidden])', (r) => r.map((e) => e.offsetHeight));
    assert.equal(heights[0], heights[1]);
    await page.locator('#live-log .row[data-seq]').first().click();
    await page.waitForSelector('#detail:not([hidden])');
    assert.equal(await page.textContent('#d-msg'), long);
  });

  test('bidirectional controls are shown, not obeyed; every field is isolated', async (t) => {
    const tag = `bidi${Date.now()}`;
    const page = await open(t, `?q=${tag}`);
    // "photo<RLO>gnp.exe" would read "photoexe.png"; an RLI never closed
    // would swallow what follows it
    await post([{ msg: `${tag} photo\u202egnp.exe \u2067open \u200fend\x1b[31m`,
      app: `ev\u202eil`, note: `x\u2066y` }]);
    const shown = `${tag} photo\u27e8U+202E\u27e9gnp.exe \u27e8U+2067\u27e9open \u27e8U+200F\u27e9end`;
    await expectShown(page, [shown]);
    const row = await page.$eval('#live-log .row[data-seq]', (r) => {
      const style = (sel) => getComputedStyle(r.querySelector(sel)).unicodeBidi;
      return {
        text: r.textContent, tp: r.querySelector('.tp').textContent, title: r.querySelector('.tp').title,
        bidi: [style('.ts'), style('.tp'), style('.msg')],
      };
    });
    assert.ok(!/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(row.text + row.title), row.text);
    assert.equal(row.tp, 'ev\u27e8U+202E\u27e9il.info');
    assert.equal(row.title, 'app ev\u27e8U+202E\u27e9il · host 127.0.0.1'); // the sender's address
    assert.deepEqual(row.bidi, ['isolate', 'isolate', 'isolate']);
    // the details too: meta, message and fields
    await page.locator('#live-log .row[data-seq]').first().click();
    await page.waitForSelector('#detail:not([hidden])');
    const detail = await page.$eval('#detail', (d) => ({
      text: d.textContent,
      msg: d.querySelector('#d-msg').textContent,
      field: [...d.querySelectorAll('#d-fields td:not(.d-act)')].map((e) => e.textContent),
      bidi: getComputedStyle(d.querySelector('#d-msg')).unicodeBidi,
    }));
    assert.ok(!/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(detail.text));
    assert.equal(detail.msg, shown);
    assert.deepEqual(detail.field, ['note', 'x\u27e8U+2066\u27e9y']);
    assert.equal(detail.bidi, 'isolate');
    assert.ok(detail.text.includes('ev\u27e8U+202E\u27e9il'));
  });

  test('keeps the last N lines, renders only what is visible, follows and jumps', async (t) => {
    const tag = `bulk${Date.now()}`;
    const page = await open(t, `?q=${tag}&keep=1000`);
    for (let i = 0; i < 1500; i += 500)
      await post(Array.from({ length: 500 }, (_, j) => ({ msg: `${tag} ${i + j}`, level: LEVELS[(i + j) % 8] })));
    await waitForMessage(page, `${tag} 1499`);
    await page.waitForFunction(() => document.querySelector('#count').textContent === '1,000 lines');
    const rows = await page.$$eval('#live-log .row', (r) => r.length);
    assert.ok(rows < 120, `${rows} row elements for 1,000 lines`);
    let msgs = await shownMessages(page);
    assert.equal(msgs[msgs.length - 1], `${tag} 1499`, 'following the newest');

    // scrolled up: the view stays, a button offers the newest
    await page.$eval('#live-log', (e) => { e.scrollTop = 2000; });
    await page.waitForSelector('#jump:not([hidden])');
    const firstBefore = (await shownSeqs(page))[10];
    await post(Array.from({ length: 50 }, (_, j) => ({ msg: `${tag} more ${j}` })));
    await page.waitForFunction(() => /50 new/.test(document.querySelector('#jump').textContent));
    await sleep(100);
    const seqs = await shownSeqs(page);
    assert.ok(seqs.includes(firstBefore), 'the lines in view stay in view while old ones are trimmed');
    msgs = await shownMessages(page);
    assert.ok(!msgs.includes(`${tag} more 49`));
    await page.click('#jump');
    await waitForMessage(page, `${tag} more 49`);
    await page.waitForSelector('#jump', { state: 'hidden' });
    msgs = await shownMessages(page);
    assert.equal(msgs[msgs.length - 1], `${tag} more 49`);
    assert.equal(await footerCount(page), '1,000 lines');

    // the limit is a setting
    await page.selectOption('#keep', '10000');
    await post([{ msg: `${tag} after keep` }]);
    await waitForMessage(page, `${tag} after keep`);
    assert.equal(await footerCount(page), '1,001 lines');
  });
});

const LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];

describe('history', () => {
  test('searches stored records and pages back with "load older"', async (t) => {
    const tag = `hist${Date.now()}`;
    for (let i = 0; i < 250; i += 125)
      await post(Array.from({ length: 125 }, (_, j) => ({ msg: `${tag} ${i + j}`, topic: 'hist.test' })));
    await post([{ msg: `${tag} wrong topic`, topic: 'other' }]);
    const page = await open(t, `?view=history&topic=hist.%23&q=${tag}&limit=100&range=all`);
    await page.waitForFunction(() => document.querySelector('#count').textContent === '100 lines');
    assert.match(await page.textContent('#h-status'), /^100 (of 250 )?records · /); // of the range's total, once counted
    let msgs = await shownMessages(page, '#history-log');
    assert.equal(msgs[msgs.length - 1], `${tag} 249`, 'newest at the bottom');
    assert.equal(await page.isEnabled('#h-older'), true);

    await page.click('#h-older');
    await page.waitForFunction(() => document.querySelector('#count').textContent === '200 lines');
    await page.click('#h-older');
    await page.waitForFunction(() => document.querySelector('#count').textContent === '250 lines');
    await page.waitForFunction(() => document.querySelector('#h-older').disabled);
    assert.match(await page.textContent('#h-status'), /no older records/);
    await page.$eval('#history-log', (e) => { e.scrollTop = 0; });
    await sleep(150);
    msgs = await shownMessages(page, '#history-log');
    assert.deepEqual(msgs.slice(0, 3), [`${tag} 0`, `${tag} 1`, `${tag} 2`]);
    assert.match(await page.textContent('#history-log .row[data-seq] .ts'), /^\d\d-\d\d \d\d:/);

    // newer records: "load newer"
    await post([{ msg: `${tag} late`, topic: 'hist.test' }]);
    await page.click('#h-newer');
    await page.waitForFunction(() => document.querySelector('#count').textContent === '251 lines');

    // the URL carries the view; a time range in the future finds nothing
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('view'), 'history');
    assert.equal(url.searchParams.get('range'), 'all');
    const future = new Date(Date.now() + 3600e3).toISOString();
    await page.goto(`${BASE}/?view=history&topic=hist.%23&q=${tag}&since=${future}`);
    await page.waitForFunction(() => /no matching records/.test(document.querySelector('#h-status').textContent));
    assert.equal(await page.inputValue('#h-range'), 'custom');
    assert.notEqual(await page.inputValue('#h-since'), '');
  });
});

describe('files', { skip: !TAIL_ROOT && 'no LOGSHIP_TAIL_ROOT' }, () => {
  test('picks a file under --tail-root and follows it live', async (t) => {
    const page = await open(t);
    await page.waitForSelector('#tab-files:not([hidden])');
    await page.click('#tab-files');
    await page.click('button[data-file="logs/app.log"]');
    await page.waitForFunction(() => document.querySelectorAll('#file-log .row.fline').length >= 3);
    const lines = () => page.$$eval('#file-log .row.fline:not([hidden])', (r) => r.map((e) => e.textContent));
    assert.deepEqual((await lines()).slice(0, 3), ['first line', 'second <b>line</b>', 'green']);
    assert.equal(await page.$eval('#file-log .a-fg-2', (e) => e.textContent), 'green');
    assert.equal(new URL(page.url()).searchParams.get('file'), 'logs/app.log');
    fs.appendFileSync(path.join(TAIL_ROOT, 'app.log'), 'appended later\n');
    await page.waitForFunction(() => [...document.querySelectorAll('#file-log .row.fline')]
      .some((e) => e.textContent === 'appended later'), null, { timeout: 5000 });
    assert.equal(await page.locator('#file-log b').count(), 0);

    // a shared link opens the same file
    await page.goto(`${BASE}/?view=files&file=logs%2Fnested%2Fdeep.log`);
    await page.waitForFunction(() => [...document.querySelectorAll('#file-log .row.fline')]
      .some((e) => e.textContent === 'deep line'), null, { timeout: 5000 });
  });
});

describe('screenshots', () => {
  test('the live view with data, on a laptop and a phone', async (t) => {
    const tag = `shot${Date.now()}`;
    const apps = ['web', 'api', 'db', 'auth', 'billing', 'kern'];
    const lines = [
      ['info', 'GET /api/orders?page=2 200 12.4ms'],
      ['info', 'user alice@example.com signed in from 10.0.4.17'],
      ['debug', 'cache hit ratio 0.934 (keys=18211)'],
      ['warning', 'slow query 841ms: SELECT * FROM invoices WHERE customer_id = $1'],
      ['error', '\x1b[31mupstream timed out\x1b[0m (110: Connection timed out) while reading response header'],
      ['notice', 'config reloaded: \x1b[32m3 routes\x1b[0m, \x1b[33m1 warning\x1b[0m'],
      ['info', 'POST /api/checkout 201 88.1ms'],
      ['crit', '\x1b[1;37;41m OOM \x1b[0m worker 7 killed, restarting'],
      ['info', 'job nightly-export finished: 12,448 rows in 3.2s'],
    ];
    const recs = [];
    for (let i = 0; i < 90; i++) {
      const [level, msg] = lines[i % lines.length];
      recs.push({ msg, level, app: apps[i % apps.length], host: `node-${i % 3}`, req: `r${i}`, tag });
    }
    await post(recs.slice(0, 60));
    for (const colorScheme of ['dark', 'light']) {
      const b = await launch({ viewport: { width: 1280, height: 760 } });
      await b.page.emulateMedia({ colorScheme });
      await b.page.goto(`${BASE}/`);
      await b.page.waitForSelector('#conn[data-state="live"]');
      // a steady trickle for a few sparkline samples (one a second)
      for (let i = 0, k = 60; i < 22; i++) {
        await post(recs.slice(k, k + 1 + (i % 4)));
        k = k + 1 + (i % 4) >= recs.length ? 60 : k + 1 + (i % 4);
        await sleep(250);
      }
      const file = await screenshot(b.page, `ui-live-${colorScheme}.png`);
      assert.ok(fs.statSync(file).size > 10000);
      assert.deepEqual(b.problems, []);
      await b.close();
    }
    const phone = await launch({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
    await phone.page.emulateMedia({ colorScheme: 'dark' });
    await phone.page.goto(`${BASE}/`);
    await phone.page.waitForSelector('#conn[data-state="live"]');
    await sleep(500);
    // a phone shows one column: no horizontal page scroll
    assert.equal(await phone.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
    await screenshot(phone.page, 'ui-phone.png');
    assert.deepEqual(phone.problems, []);
    await phone.close();
    t.diagnostic(`screenshots in ${process.env.LOGSHIP_ARTIFACTS || 'tests/artifacts'}`);
  });
});
