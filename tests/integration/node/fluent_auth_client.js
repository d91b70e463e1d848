// fluent_auth_client.js - @fluent-org/logger with its security options (the
// forward protocol's shared-key handshake: security.sharedKey, and
// username/password when given), for the --forward-auth tests: COUNT
// events acknowledged, then disconnects. With CA, over TLS verifying the
// server against that CA file. Prints {"acked":N,"errors":[...]}; a
// refused handshake shows in errors (the client is fatally closed, no
// retry).
// Usage: node fluent_auth_client.js PORT COUNT SHARED_KEY [USER PASSWORD] [--ca CA]
'use strict';
const fs = require('fs');
const { FluentClient } = require('@fluent-org/logger');

const args = process.argv.slice(2);
let ca = null;
const caAt = args.indexOf('--ca');
if (caAt >= 0) {
  ca = fs.readFileSync(args[caAt + 1]);
  args.splice(caAt, 2);
}
const [port, countArg, sharedKey, username, password] = args;
const count = parseInt(countArg, 10);
const errors = [];
const logger = new FluentClient('secure', {
  socket: {
    host: '127.0.0.1',
    port: parseInt(port, 10),
    timeout: 10000,
    ...(ca ? { tls: { ca, servername: 'localhost' } } : {}),
  },
  security: {
    clientHostname: 'client.example',
    sharedKey,
    ...(username ? { username, password } : {}),
  },
  ack: { ackTimeout: 5000 },
  flushInterval: 20,
});
logger.socketOn('error', (e) => errors.push(String(e)));
const sends = [];
for (let i = 0; i < count; i++) {
  sends.push(logger.emit('events', { message: `secure ${i}` }));
}
let acked = 0;
// printed at exit: a refused handshake closes the socket for good and
// leaves the emits pending, and the process then ends with nothing to do
process.on('exit', () => console.log(JSON.stringify({ acked, errors: errors.slice(0, 5) })));
Promise.all(sends.map((p) => p.then(() => { acked++; }, (e) => { errors.push(String(e)); })))
  .then(() => logger.disconnect())
  .catch((e) => { errors.push(String(e)); });
setTimeout(() => { errors.push('timed out'); process.exit(1); }, 20000).unref();
