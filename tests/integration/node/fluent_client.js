// fluent_client.js - @fluent-org/logger as an application would set it
// up, for the forward tests: COUNT events in MODE (Message, Forward,
// PackedForward or CompressedPackedForward), with acknowledgements on
// (each emit resolves only once the server acked its chunk), then
// disconnects. Prints {"acked":N,"errors":[...]}.
// With RETRY, an ack that does not come in 500 ms makes the client send
// the event again (its event retrier), up to 60 times.
// Usage: node fluent_client.js PORT COUNT MODE [RETRY]
'use strict';
const { FluentClient, EventTime } = require('@fluent-org/logger');

const [port, countArg, mode, retry] = process.argv.slice(2);
const count = parseInt(countArg, 10);
const logger = new FluentClient('shop', {
  socket: { host: '127.0.0.1', port: parseInt(port, 10), timeout: 10000 },
  eventMode: mode,
  ack: { ackTimeout: retry ? 500 : 20000 },
  flushInterval: 20,
  ...(retry ? { eventRetry: { attempts: 60, delay: 100, maxDelay: 500 } } : {}),
});
const levels = ['info', 'warn', 'error', 'debug'];
const sends = [];
for (let i = 0; i < count; i++) {
  sends.push(logger.emit('orders', { message: `order ${i} placed`, level: levels[i % 4], n: i },
                         EventTime.fromTimestamp(1764684000000 + i)));
}
const errors = [];
let acked = 0;
Promise.all(sends.map((p) => p.then(() => { acked++; }, (e) => { errors.push(String(e)); })))
  .then(() => logger.disconnect())
  .then(() => console.log(JSON.stringify({ acked, errors: errors.slice(0, 5) })));
setTimeout(() => { console.log(JSON.stringify({ acked, errors: ['timed out'] })); process.exit(1); },
           60000).unref();
