// loki_pino.js - pino with its pino-loki transport as an application would
// set it up, for the Loki push tests. Logs COUNT records (levels cycling
// through info, warn, error, debug), each with a structured-metadata
// object, then ends the transport, which pushes what it still holds.
// Usage: node loki_pino.js URL COUNT
'use strict';
const pino = require('pino');

const [url, countArg] = process.argv.slice(2);
const count = parseInt(countArg, 10);

const transport = pino.transport({
  target: 'pino-loki',
  options: {
    host: url,
    labels: { app: 'shop', env: 'test' },
    batching: { interval: 0.2 },
  },
});
const logger = pino({ level: 'debug' }, transport);
const levels = ['info', 'warn', 'error', 'debug'];
for (let i = 0; i < count; i++)
  logger[levels[i % 4]]({ n: i, meta: { trace_id: `t${i}` } }, `order ${i} placed`);
// node exits once the worker is done: a push of the batch timer may still
// be in flight when the transport closes, so no process.exit on 'close'
logger.flush();
setTimeout(() => transport.end(), 500);
setTimeout(() => { console.error('transport did not close'); process.exit(1); }, 20000).unref();
