// loki_winston.js - winston with its winston-loki transport as an
// application would set it up (protobuf with snappy, its default), for the
// Loki push tests: COUNT records (levels cycling through info, warn, error,
// debug) with a label of their own and metadata, then flushes.
// Usage: node loki_winston.js URL COUNT
'use strict';
const winston = require('winston');
const LokiTransport = require('winston-loki');

const [url, countArg] = process.argv.slice(2);
const count = parseInt(countArg, 10);
const errors = [];
const transport = new LokiTransport({
  host: url,
  labels: { app: 'winapp', env: 'test' },
  interval: 0.2,
  onConnectionError: (err) => errors.push(String(err)),
});
const logger = winston.createLogger({ level: 'debug', transports: [transport] });
const levels = ['info', 'warn', 'error', 'debug'];
for (let i = 0; i < count; i++)
  logger.log({ level: levels[i % 4], message: `winston ${i}`, labels: { n: `${i % 2}` } });
setTimeout(async () => {
  await transport.flush();
  console.log(JSON.stringify({ errors }));
  process.exit(errors.length ? 1 : 0);
}, 1000);
