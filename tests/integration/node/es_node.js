// es_node.js - the official Elasticsearch client for node (@elastic/
// elasticsearch) as an application would use it, for the bulk tests:
// info() (its product check), then helpers.bulk() of COUNT ECS documents
// into INDEX. Prints {"info":..., "total":N, "successful":N, "failed":N}.
// Usage: node es_node.js URL COUNT INDEX
'use strict';
const { Client } = require('@elastic/elasticsearch');

const [url, countArg, index] = process.argv.slice(2);
const count = parseInt(countArg, 10);
const client = new Client({ node: url, maxRetries: 0 });
(async () => {
  const info = await client.info();
  const docs = [];
  for (let i = 0; i < count; i++) {
    docs.push({ '@timestamp': new Date(1764684000000 + i).toISOString(),
                message: `node doc ${i}`, log: { level: i % 2 ? 'warn' : 'info' },
                service: { name: 'nodeapp' }, labels: { n: i } });
  }
  const stats = await client.helpers.bulk({
    datasource: docs, onDocument: () => ({ index: { _index: index } }), flushBytes: 4096,
  });
  console.log(JSON.stringify({ info: info.version.number, total: stats.total,
                               successful: stats.successful, failed: stats.failed }));
})().catch((e) => { console.error(String(e)); process.exit(1); });
