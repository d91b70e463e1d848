// explore.test.mjs - the web UI as a place to investigate (issue 20), end to
// end in headless Chromium against the real logshipd (run by
// tests/integration/test_ui.py): the volume chart against the total, drag
// to zoom, facets, History in time order, permalinks with context, export,
// columns, keys, the theme, and the 390 px layout. Each test posts records
// with its own tag, and filters on it, so tests do not see each other's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { BASE, launch, post, request, screenshot, shownMessages, shownSeqs, sleep } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { if (browser) await browser.close(); });

async function open(t, query, opts = {}) {
  const b = opts.viewport ? await launch(opts) : null;
  const page = b ? b.page : await browser.context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  t.after(async () => {
    if (b) await b.close();
    else await page.close();
    assert.deepEqual(problems.concat(b ? b.problems : []), [], 'page errors or dialogs');
  });
  await page.goto(`${BASE}/${query}`);
  await page.waitForSelector('#conn[data-state="live"]', { timeout: 10000 });
  return page;
}

const total = (page) => page.$eval('#vol-total', (e) => Number(e.dataset.total));
const tableSum = (page) => page.$$eval('#vol-table td.n', (c) => c.reduce((s, e) => s + Number(e.textContent), 0));
const countText = (page) => page.$eval('#count', (e) => e.textContent);

async function waitTotal(page, n) {
  await page.waitForFunction((want) => Number(document.querySelector('#vol-total').dataset.total) === want, n,
    { timeout: 10000 });
}

const LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];

describe('volume chart and facets', () => {
  test('the bars sum to the total count; drag-zoom sets the range and the URL', async (t) => {
    const tag = `vol${Date.now()}`;
    const now = Date.now() / 1000;
    // 120 records over the last 50 minutes, every level
    await post(Array.from({ length: 120 }, (_, i) => ({
      msg: `${tag} ${i}`, level: LEVELS[i % 8], ts: now - 3000 + i * 25,
    })));
    const page = await open(t, `?view=history&range=1h&q=${tag}`);
    await waitTotal(page, 120);
    assert.equal(await tableSum(page), 120, 'the bars sum to the total');
    assert.match(await page.textContent('#vol-total'), /^120 records$/);
    // the level facet's counts are the stacks' parts: 15 of each
    const levels = await page.$$eval('.facet[data-by="level"] .fv-in', (b) => b.map((e) => [e.dataset.value, e.querySelector('.fv-n').textContent]));
    assert.deepEqual(levels, LEVELS.map((l) => [l, '15']));
    assert.match(await page.textContent('#h-status'), /^120 of 120 records · /);

    // drag across the middle of the chart
    const box = await page.locator('#vol-chart').boundingBox();
    const y = box.y + box.height / 3;
    await page.mouse.move(box.x + box.width * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, y, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('range') === 'custom');
    const url = new URL(page.url());
    const since = Date.parse(url.searchParams.get('since'));
    const until = Date.parse(url.searchParams.get('until'));
    assert.ok(since < until, `${url.searchParams.get('since')} < ${url.searchParams.get('until')}`);
    // a fifth of an hour or so, inside the hour
    assert.ok(until - since > 5 * 60e3 && until - since < 20 * 60e3, `${until - since} ms`);
    assert.equal(await page.inputValue('#h-range'), 'custom');
    // the list and the chart follow the new range, and agree
    const want = (await request('GET', `/api/logs?q=${tag}&since=${url.searchParams.get('since')}&until=${url.searchParams.get('until')}&limit=all`)).json().length;
    assert.ok(want > 0 && want < 120, `${want} records in the zoomed range`);
    await waitTotal(page, want);
    assert.equal(await tableSum(page), want);
    await page.waitForFunction((n) => document.querySelector('#count').textContent === `${n} lines`, want);
  });

  test('in Live the chart keeps counting what arrives', async (t) => {
    const tag = `lv${Date.now()}`;
    await post(Array.from({ length: 4 }, (_, i) => ({ msg: `${tag} ${i}` })));
    const page = await open(t, `?q=${tag}`);
    await waitTotal(page, 4);
    assert.equal(await tableSum(page), 4);
    await post(Array.from({ length: 6 }, (_, i) => ({ msg: `${tag} more ${i}`, level: 'error' })));
    // no reload, no click: the next refresh counts them
    await waitTotal(page, 10);
    assert.equal(await tableSum(page), 10);
    assert.match(await page.textContent('.facet[data-by="level"]'), /error\s*6/);
  });

  test('a facet click filters, its count matches the list; alt-click excludes', async (t) => {
    const tag = `fac${Date.now()}`;
    const hosts = ['alpha', 'alpha', 'alpha', 'beta', 'beta', 'gamma*'];
    await post(hosts.map((h, i) => ({ msg: `${tag} ${i}`, host: h, app: `${tag}app` })));
    const page = await open(t, `?view=history&range=1h&q=${tag}`);
    await waitTotal(page, 6);
    const facet = (v) => page.locator(`.facet[data-by="host"] .fv-in[data-value="${v}"]`);
    assert.equal(await facet('alpha').locator('.fv-n').textContent(), '3');
    await facet('alpha').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('host') === 'alpha');
    await waitTotal(page, 3);
    await page.waitForFunction(() => document.querySelector('#count').textContent === '3 lines');
    assert.deepEqual(await shownMessages(page, '#history-log'), [`${tag} 0`, `${tag} 1`, `${tag} 2`]);
    assert.equal(await page.inputValue('#f-host'), 'alpha');

    // back to all hosts; alt-click one away (a glob character in it is literal)
    await page.fill('#f-host', '');
    await page.press('#f-host', 'Enter');
    await waitTotal(page, 6);
    await facet('gamma*').click({ modifiers: ['Alt'] });
    await page.waitForFunction(() => new URL(location.href).searchParams.get('not.host') === 'gamma\\*');
    await waitTotal(page, 5);
    await page.waitForFunction(() => document.querySelector('#count').textContent === '5 lines');
    assert.match(await page.textContent('#chips'), /not host gamma\\\* ✕/);
    // the − button does the same on a touch screen
    await page.locator('.facet[data-by="host"] .fv-out[data-value="beta"]').click();
    await waitTotal(page, 3);
    // the live view takes the same filters
    await page.click('#tab-live');
    await page.waitForFunction(() => document.querySelectorAll('#live-log .row[data-seq]:not([hidden])').length === 3);
    // a chip removes its filter
    await page.locator('#chips .chip', { hasText: 'beta' }).click();
    await waitTotal(page, 5);
  });
});

describe('history', () => {
  test('records sent out of order are listed by time; arrival order is an option', async (t) => {
    const tag = `ord${Date.now()}`;
    const base = Date.now() / 1000 - 600;
    // arrival order: 3, 1, 4, 0, 2 (by time)
    const order = [3, 1, 4, 0, 2];
    for (const i of order) await post([{ msg: `${tag} t${i}`, ts: base + i * 10 }]);
    // two more sharing one ts: by seq among themselves
    await post([{ msg: `${tag} same a`, ts: base + 25 }, { msg: `${tag} same b`, ts: base + 25 }]);
    const page = await open(t, `?view=history&range=1h&q=${tag}`);
    const byTime = [`${tag} t0`, `${tag} t1`, `${tag} t2`, `${tag} same a`, `${tag} same b`, `${tag} t3`, `${tag} t4`];
    await page.waitForFunction(() => document.querySelector('#count').textContent === '7 lines');
    assert.deepEqual(await shownMessages(page, '#history-log'), byTime);
    const status = await page.textContent('#h-status');
    assert.match(status, / · by time$/);
    // the label is the query's range (the last hour), not the first and last row
    const m = /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) → (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/.exec(status);
    assert.ok(m, status);
    const span = new Date(m[2].replace(' ', 'T')) - new Date(m[1].replace(' ', 'T'));
    assert.ok(Math.abs(span - 3600e3) < 5000, `${span} ms`);
    // an hour: times without a date
    assert.match(await page.textContent('#history-log .row[data-seq] .ts'), /^\d\d:\d\d:\d\d\.\d{3}$/);

    await page.selectOption('#h-order', 'arrival');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('order') === 'arrival');
    await page.waitForFunction((w) => [...document.querySelectorAll('#history-log .row[data-seq]:not([hidden]) .msg')]
      .map((e) => e.textContent).join('|') === w, [...order.map((i) => `${tag} t${i}`), `${tag} same a`, `${tag} same b`].join('|'));
    assert.match(await page.textContent('#h-status'), / · by arrival$/);

    // more than a day: dates in the rows
    await page.selectOption('#h-order', 'time');
    await page.selectOption('#h-range', '7d');
    await page.waitForFunction(() => /^\d\d-\d\d \d\d:/.test(document.querySelector('#history-log .row[data-seq] .ts')?.textContent || ''));
  });

  test('"load older" pages back in time order without gap or repeat', async (t) => {
    const tag = `pg${Date.now()}`;
    const base = Date.now() / 1000 - 900;
    // 250 records, arriving in a shuffled time order, ten per second of ts
    const idx = Array.from({ length: 250 }, (_, i) => (i * 97) % 250);
    await post(idx.map((i) => ({ msg: `${tag} ${String(i).padStart(3, '0')}`, ts: base + Math.floor(i / 10) })));
    const page = await open(t, `?view=history&range=1h&q=${tag}&limit=100`);
    await page.waitForFunction(() => document.querySelector('#count').textContent === '100 lines');
    await page.click('#h-older');
    await page.waitForFunction(() => document.querySelector('#count').textContent === '200 lines');
    await page.click('#h-older');
    await page.waitForFunction(() => document.querySelector('#count').textContent === '250 lines');
    await page.$eval('#history-log', (e) => { e.scrollTop = 0; });
    await sleep(150);
    const first = await shownMessages(page, '#history-log');
    assert.deepEqual(first.slice(0, 3).map((m) => m.split(' ')[1].slice(0, 2)), ['00', '00', '00']);
    const api = (await request('GET', `/api/logs?q=${tag}&sort=ts&limit=1000`)).json();
    assert.equal(api.length, 250);
    assert.deepEqual(first.slice(0, 10), api.slice(0, 10).map((r) => r.msg));
  });

  test('a permalink opens the record with 50 records of context', async (t) => {
    const tag = `pl${Date.now()}`;
    const got = await post(Array.from({ length: 120 }, (_, i) => ({ msg: `${tag} ${i}`, level: i === 60 ? 'error' : 'info' })));
    const seq = got.first_seq + 60;
    const page = await open(t, `?view=history&q=${tag}#seq=${seq}`);
    await page.waitForSelector('#detail:not([hidden])');
    assert.equal(await page.textContent('#d-title'), `seq ${seq}`);
    assert.equal(await page.textContent('#d-msg'), `${tag} 60`);
    await page.waitForFunction(() => document.querySelector('#count').textContent === '51 lines');
    const selected = await page.$eval('#history-log .row.sel', (r) => Number(r.dataset.seq));
    assert.equal(selected, seq);
    assert.match(await page.textContent('#h-status'), new RegExp(`record ${seq}`));
    // the detail's permalink is the same link
    const href = await page.getAttribute('#d-link', 'href');
    assert.ok(href.endsWith(`#seq=${seq}`) && href.includes(`q=${tag}`), href);
    // context without filters: the neighbours in the whole store
    await page.click('#d-context');
    await page.waitForFunction(() => / without filters/.test(document.querySelector('#h-status').textContent));
    const seqs = await page.evaluate(() => [...document.querySelectorAll('#history-log .row[data-seq]')].map((r) => Number(r.dataset.seq)));
    assert.ok(seqs.includes(seq));

    // clicking a record in Live puts its permalink in the URL
    await page.goto(`${BASE}/?q=${tag}`);
    await page.waitForSelector('#conn[data-state="live"]');
    await page.locator('#live-log .row[data-seq]', { hasText: `${tag} 119` }).click();
    await page.waitForFunction(() => /^#seq=\d+$/.test(location.hash));
    assert.equal(new URL(page.url()).hash, `#seq=${got.last_seq}`);
    // filter on a value from the details
    await page.locator('#d-meta button[data-act="include"]').first().click(); // level: info
    await page.waitForFunction(() => new URL(location.href).searchParams.get('level') === 'info');
  });

  test('the details filter on a field value, or exclude it', async (t) => {
    const tag = `fld${Date.now()}`;
    await post([{ msg: `${tag} a`, kind: 'x*y' }, { msg: `${tag} b`, kind: 'other' }, { msg: `${tag} c` }]);
    const page = await open(t, `?view=history&range=1h&q=${tag}`);
    await page.waitForFunction(() => document.querySelector('#count').textContent === '3 lines');
    await page.locator('#history-log .row[data-seq]', { hasText: `${tag} a` }).click();
    await page.waitForSelector('#detail:not([hidden])');
    await page.locator('#d-fields button[data-act="exclude"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('not.field.kind') === 'x\\*y');
    await page.waitForFunction(() => document.querySelector('#count').textContent === '2 lines');
    assert.deepEqual(await shownMessages(page, '#history-log'), [`${tag} b`, `${tag} c`]);
    await page.locator('#history-log .row[data-seq]', { hasText: `${tag} b` }).click();
    await page.locator('#d-fields button[data-act="include"]').click();
    await page.waitForFunction(() => new URL(location.href).searchParams.get('field.kind') === 'other');
    await page.waitForFunction(() => document.querySelector('#count').textContent === '1 line');
    await waitTotal(page, 1);
  });

  test('export downloads every matching record, past the page size', async (t) => {
    const tag = `exp${Date.now()}`;
    await post(Array.from({ length: 300 }, (_, i) => ({ msg: `${tag} ${i}, "q"`, app: 'exporter', n: i })));
    const page = await open(t, `?view=history&range=1h&q=${tag}&limit=100`);
    await page.waitForFunction(() => document.querySelector('#count').textContent === '100 lines');
    const api = (await request('GET', `/api/logs?q=${tag}&limit=all`)).json();
    assert.equal(api.length, 300);

    const [nd] = await Promise.all([page.waitForEvent('download'), page.click('#x-ndjson')]);
    assert.equal(nd.suggestedFilename(), 'logship.ndjson');
    const lines = fs.readFileSync(await nd.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines, api);

    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#x-csv')]);
    assert.equal(csv.suggestedFilename(), 'logship.csv');
    const text = fs.readFileSync(await csv.path(), 'utf8');
    const rows = text.split('\r\n').filter(Boolean);
    assert.equal(rows[0], 'seq,ts,level,topic,host,app,pid,msg,fields');
    assert.equal(rows.length, 301);
    assert.deepEqual(rows.slice(1).map((r) => Number(r.split(',')[0])), api.map((r) => r.seq));
    assert.ok(rows[1].includes(`"${tag} 0, ""q"""`), rows[1]);
  });
});

describe('columns, keys, theme', () => {
  test('columns are chosen, kept in the URL and in local storage', async (t) => {
    const tag = `col${Date.now()}`;
    await post([{ msg: `${tag} one`, app: 'colapp', host: 'colhost' }]);
    const page = await open(t, `?q=${tag}`);
    await page.waitForSelector('#live-log .row[data-seq]');
    await page.click('#cols summary');
    await page.uncheck('#cols-box input[value="topic"]');
    await page.check('#cols-box input[value="host"]');
    await page.check('#cols-box input[value="app"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('cols') === 'time,level,host,app,message');
    const row = () => page.$eval('#live-log .row[data-seq]', (r) => [...r.children].map((c) => `${c.className.split(' ')[0]}=${c.textContent}`));
    await page.waitForFunction(() => document.querySelector('#live-log .row[data-seq] .hs'));
    const cells = await row();
    assert.deepEqual(cells.slice(2), ['hs=colhost', 'ap=colapp', `msg=${tag} one`]);
    assert.equal(await page.locator('#live-log .row[data-seq] .tp').count(), 0);
    // local storage: a link without cols= gets the same columns
    await page.goto(`${BASE}/?q=${tag}`);
    await page.waitForSelector('#live-log .row[data-seq] .hs');
    assert.deepEqual((await row()).slice(2), ['hs=colhost', 'ap=colapp', `msg=${tag} one`]);
    await page.evaluate(() => localStorage.removeItem('logship.cols'));
  });

  test('j/k move, Enter opens, o permalink, / search, t theme, ? keys', async (t) => {
    const tag = `keys${Date.now()}`;
    const got = await post(Array.from({ length: 5 }, (_, i) => ({ msg: `${tag} ${i}` })));
    const page = await open(t, `?q=${tag}`);
    await page.waitForFunction(() => document.querySelectorAll('#live-log .row[data-seq]').length === 5);
    await page.focus('#live-log');
    const sel = () => page.$eval('#live-log .row.sel', (r) => Number(r.dataset.seq)).catch(() => null);
    await page.keyboard.press('j');
    await page.waitForFunction(() => document.querySelector('#live-log .row.sel'));
    assert.equal(await sel(), got.first_seq);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.waitForFunction((s) => Number(document.querySelector('#live-log .row.sel')?.dataset.seq) === s, got.first_seq + 2);
    await page.keyboard.press('k');
    await page.waitForFunction((s) => Number(document.querySelector('#live-log .row.sel')?.dataset.seq) === s, got.first_seq + 1);
    assert.equal(await page.isVisible('#detail'), false, 'moving does not open');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail:not([hidden])');
    assert.equal(await page.textContent('#d-title'), `seq ${got.first_seq + 1}`);
    await page.keyboard.press('o');
    await page.waitForFunction((s) => location.hash === `#seq=${s}` && new URL(location.href).searchParams.get('view') === 'history', got.first_seq + 1);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#detail', { state: 'hidden' });

    // theme: system -> dark -> light -> system
    const theme = () => page.evaluate(() => document.documentElement.dataset.theme || 'auto');
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await page.keyboard.press('t');
    assert.equal(await theme(), 'dark');
    assert.equal(await bg(), 'rgb(13, 17, 23)');
    await page.keyboard.press('t');
    assert.equal(await theme(), 'light');
    assert.equal(await bg(), 'rgb(255, 255, 255)');
    assert.equal(await page.getAttribute('#theme', 'aria-label'), 'Theme: light');
    await page.click('#theme');
    assert.equal(await theme(), 'auto');

    await page.keyboard.press('?');
    await page.waitForSelector('#keys:not([hidden])');
    assert.match(await page.textContent('#keys'), /next \/ previous record/);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#keys', { state: 'hidden' });
    await page.focus('#live-log');
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'f-q');
  });
});

describe('phone', () => {
  test('at 390 px every control is on screen and labelled', async (t) => {
    const tag = `ph${Date.now()}`;
    await post(Array.from({ length: 40 }, (_, i) => ({ msg: `${tag} ${i}`, level: LEVELS[i % 8], app: ['web', 'db'][i % 2] })));
    const page = await open(t, `?q=${tag}`, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
    await waitTotal(page, 40);
    const check = async (view) => {
      await page.$eval('#facets', (d) => { d.open = true; });
      const bad = await page.evaluate(() => {
        const out = [];
        const sel = 'header button:not([hidden]), #filters button, #filters input, #filters select, #filters summary, ' +
          '.view:not([hidden]) .range button, .view:not([hidden]) .range select, .view:not([hidden]) .range a, ' +
          '.view:not([hidden]) .pager button, #facets summary, #facets button, footer select';
        for (const el of document.querySelectorAll(sel)) {
          if (el.closest('[hidden]') || el.closest('.cols-box') || el.closest('details:not([open]) > :not(summary)')) continue;
          // Pause and Clear belong to the live view only
          if (el.closest('.live-only') && !document.body.classList.contains('view-live')) continue;
          const r = el.getBoundingClientRect();
          const cs = getComputedStyle(el);
          const name = (el.getAttribute('aria-label') || (el.labels && [...el.labels].map((l) => l.textContent).join(' ')) ||
            el.textContent || el.title || '').trim();
          const id = el.id || el.className || el.tagName;
          if (cs.display === 'none' || cs.visibility === 'hidden' || r.width === 0 || r.height === 0) out.push(`${id}: not shown`);
          else if (r.left < 0 || r.right > window.innerWidth + 0.5) out.push(`${id}: off screen (${r.left}..${r.right})`);
          if (!name) out.push(`${id}: no label`);
        }
        if (document.documentElement.scrollWidth > window.innerWidth) out.push('the page scrolls sideways');
        return out;
      });
      assert.deepEqual(bad, [], view);
    };
    await check('live');
    // the controls the old layout lost: Clear, and the range form's labels
    assert.equal(await page.isVisible('#clear'), true);
    await page.click('#tab-history');
    await page.waitForFunction(() => /records/.test(document.querySelector('#h-status').textContent));
    await check('history');
    for (const id of ['h-range', 'h-limit', 'h-order']) {
      const label = await page.$eval(`#${id}`, (e) => {
        const s = e.labels[0].querySelector('span');
        const r = s.getBoundingClientRect();
        return { text: s.textContent, w: r.width, h: r.height };
      });
      assert.ok(label.w > 10 && label.h > 5, `${id}'s label is shown: ${JSON.stringify(label)}`);
    }
    await page.$eval('#facets', (d) => { d.open = false; });
    await sleep(300);
    const file = await screenshot(page, 'ui-phone-history.png');
    assert.ok(fs.statSync(file).size > 10000);
  });
});

// Realistic records for the README's screenshots (docs/screenshot.png and
// docs/screenshot-phone.png are copies of these artifacts).
const LINES = [
  ['info', 'GET /api/orders?page=2 200 12.4ms'],
  ['info', 'user alice@example.com signed in from 10.0.4.17'],
  ['debug', 'cache hit ratio 0.934 (keys=18211)'],
  ['warning', 'slow query 841ms: SELECT * FROM invoices WHERE customer_id = $1'],
  ['error', 'upstream timed out (110: Connection timed out) while reading response header'],
  ['notice', 'config reloaded: 3 routes, 1 warning'],
  ['info', 'POST /api/checkout 201 88.1ms'],
  ['crit', 'worker 7 killed (OOM), restarting'],
  ['info', 'job nightly-export finished: 12,448 rows in 3.2s'],
  ['info', 'GET /healthz 200 0.4ms'],
];

async function shopRecords() {
  const apps = ['web', 'api', 'db', 'auth', 'billing'];
  const now = Date.now() / 1000;
  const recs = [];
  for (let i = 0; i < 600; i++) {
    // busier towards the end, with a burst of errors half an hour ago
    const age = 3500 * Math.pow((i * 7919) % 600 / 600, 1.6);
    const burst = age > 1700 && age < 1900 && i % 3 === 0;
    const [level, msg] = burst ? ['error', 'payment provider returned 503'] : LINES[i % LINES.length];
    const app = apps[(i * 31) % apps.length];
    recs.push({ msg, level, app, host: `node-${(i % 3) + 1}`, topic: `shop.${app}.${level}`, ts: now - age, req: `r${i}` });
  }
  await post(recs);
}

describe('screenshots', () => {
  test('History with the chart and facets, on a laptop and a phone', async (t) => {
    await shopRecords();
    const desk = await launch({ viewport: { width: 1280, height: 760 } });
    await desk.page.emulateMedia({ colorScheme: 'dark' });
    await desk.page.goto(`${BASE}/?view=history&range=1h&topic=shop.%23&cols=time,level,app,host,message`);
    await desk.page.waitForFunction(() => /of 600 records/.test(document.querySelector('#h-status').textContent));
    await sleep(300);
    assert.ok(fs.statSync(await screenshot(desk.page, 'ui-history-dark.png')).size > 10000);
    assert.deepEqual(desk.problems, []);
    await desk.close();
    const phone = await launch({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
    await phone.page.emulateMedia({ colorScheme: 'dark' });
    await phone.page.goto(`${BASE}/?view=history&range=1h&topic=shop.%23`);
    await phone.page.waitForFunction(() => /of 600 records/.test(document.querySelector('#h-status').textContent));
    await sleep(300);
    assert.ok(fs.statSync(await screenshot(phone.page, 'ui-history-phone.png')).size > 10000);
    assert.deepEqual(phone.problems, []);
    await phone.close();
  });
});

