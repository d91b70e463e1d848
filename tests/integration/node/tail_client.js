// tail_client.js - live tail subscribers on node's `ws`, for the integration
// tests. Opens CONNS WebSockets to URL, prints "ready" once all are open,
// then waits until each has received EXPECT records and checks that every
// connection got seqs in strictly increasing order with no repeats.
// Usage: node tail_client.js URL CONNS EXPECT [TIMEOUT_MS]
// Prints one JSON line: {"ok":bool,"counts":[...],"first":..,"last":..,"errors":[...],
// "topics":[...]} (topics: every distinct topic of the records received)
'use strict';
const WebSocket = require('ws');

const [url, connsArg, expectArg, timeoutArg] = process.argv.slice(2);
const conns = parseInt(connsArg, 10);
const expect = parseInt(expectArg, 10);
const timeout = parseInt(timeoutArg || '60000', 10);
const seqRe = /"seq":(\d+)/g;
const topicRe = /"topic":"((?:[^"\\]|\\.)*)"/g;
const topics = new Set();

const state = [];
let open = 0;
let finished = false;
const errors = [];

function done(ok) {
  if (finished) return;
  finished = true;
  const counts = state.map((s) => s.count);
  console.log(JSON.stringify({
    ok, counts, errors: errors.slice(0, 10), topics: [...topics].sort(),
    first: state.length ? state[0].first : null,
    last: state.length ? state[0].last : null,
  }));
  for (const s of state) s.ws.terminate();
  process.exit(ok ? 0 : 1);
}

function check() {
  if (state.every((s) => s.count >= expect)) done(errors.length === 0);
}

for (let i = 0; i < conns; i++) {
  const s = { count: 0, last: 0, first: null };
  s.ws = new WebSocket(url, { perMessageDeflate: false });
  s.ws.on('open', () => { if (++open === conns) console.log('ready'); });
  s.ws.on('message', (data) => {
    const text = data.toString();
    if (text[0] !== '[') return; // status messages
    let m;
    seqRe.lastIndex = 0;
    topicRe.lastIndex = 0;
    while ((m = topicRe.exec(text)) !== null) topics.add(JSON.parse(`"${m[1]}"`));
    while ((m = seqRe.exec(text)) !== null) {
      const seq = parseInt(m[1], 10);
      if (seq <= s.last) errors.push(`conn ${i}: seq ${seq} after ${s.last}`);
      if (s.first === null) s.first = seq;
      s.last = seq;
      s.count++;
    }
    check();
  });
  s.ws.on('error', (e) => { errors.push(`conn ${i}: ${e.message}`); done(false); });
  state.push(s);
}
setTimeout(() => { errors.push('timeout'); done(false); }, timeout);
