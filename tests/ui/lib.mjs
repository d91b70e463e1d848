// lib.mjs - shared helpers for the UI tests: Debian's Chromium driven by
// playwright-core (no browser download), and a small client for logshipd.
//
// The server is started by the Python side (tests/integration/test_ui.py)
// and named by LOGSHIP_URL; screenshots go to LOGSHIP_ARTIFACTS.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const BASE = process.env.LOGSHIP_URL || 'http://127.0.0.1:8080';
export const ARTIFACTS = process.env.LOGSHIP_ARTIFACTS ||
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// A fresh browser with its own empty profile; close() removes the profile.
export async function launch({ viewport = { width: 1280, height: 800 }, deviceScaleFactor = 1, isMobile = false } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'logship-ui-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    deviceScaleFactor,
    isMobile,
    hasTouch: isMobile,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--no-first-run', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] || await context.newPage();
  const problems = await watch(page);
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Collects what must never happen on the page: dialogs (alert from an
// injected script), uncaught errors, CSP violations.
async function watch(page) {
  const problems = [];
  page.on('dialog', async (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text()))
      problems.push(`csp: ${m.text()}`);
  });
  // awaited: the page must not load before the listener is in place
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return problems;
}

// One HTTP request on its own connection (fetch's keep-alive pool would
// hold the test process open until the server times the sockets out).
export function request(method, urlPath, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${BASE}${urlPath}`, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function post(records) {
  const body = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const r = await request('POST', '/api/log', {
    headers: { 'Content-Type': 'application/x-ndjson' },
    body,
  });
  if (r.status !== 200) throw new Error(`POST /api/log: ${r.status} ${r.text}`);
  return r.json();
}

// The messages of the record rows the page shows, top to bottom.
export async function shownMessages(page, list = '#live-log') {
  return page.$$eval(`${list} .row[data-seq]:not([hidden])`, (rows) => rows.map((r) => r.querySelector('.msg').textContent));
}

export async function shownSeqs(page, list = '#live-log') {
  return page.$$eval(`${list} .row[data-seq]:not([hidden])`, (rows) => rows.map((r) => Number(r.dataset.seq)));
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name);
  await page.screenshot({ path: file });
  return file;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
