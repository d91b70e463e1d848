// gelf_pro.js - gelf-pro (npm) as an application would set it up, for the
// GELF tests: COUNT messages over ADAPTER (udp or tcp) with a field of
// their own, then exits once each was sent.
// Usage: node gelf_pro.js ADAPTER PORT COUNT
'use strict';
const log = require('gelf-pro');

const [adapter, port, countArg] = process.argv.slice(2);
const count = parseInt(countArg, 10);
log.setConfig({
  fields: { facility: 'nodesvc', owner: 'team-a' },
  adapterName: adapter,
  adapterOptions: { host: '127.0.0.1', port: parseInt(port, 10), family: 4 },
});
let done = 0;
for (let i = 0; i < count; i++) {
  log.warning(`gelf-pro message ${i}`, { n: i }, (err) => {
    if (err) { console.error(String(err)); process.exit(1); }
    if (++done === count) process.exit(0);
  });
}
