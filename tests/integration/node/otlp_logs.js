// otlp_logs.js - the OpenTelemetry logs SDK with its OTLP/HTTP exporter
// (JSON, or protobuf with ENCODING=proto) as an application would set it
// up, for the OTLP tests. Emits COUNT records (severities cycling through
// INFO, WARN, ERROR, DEBUG) with attributes, one inside a span context,
// then shuts the provider down, which exports what is left. Prints the
// exporter's result codes as one JSON line.
// Usage: node otlp_logs.js URL COUNT [json|proto]
'use strict';
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const [url, countArg, encoding] = process.argv.slice(2);
const count = parseInt(countArg, 10);
const { OTLPLogExporter } = require(encoding === 'proto'
  ? '@opentelemetry/exporter-logs-otlp-proto' : '@opentelemetry/exporter-logs-otlp-http');

const exporter = new OTLPLogExporter({ url: url + '/v1/logs' });
const results = [];
const origExport = exporter.export.bind(exporter);
exporter.export = (logs, cb) => origExport(logs, (r) => { results.push(r.code); cb(r); });
const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': 'shop', 'host.name': 'otel-host',
                                     'deployment.environment': 'test' }),
  processors: [new BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 100 })],
});
const logger = provider.getLogger('checkout', '1.2.3');
const sev = [[SeverityNumber.INFO, 'INFO'], [SeverityNumber.WARN, 'WARN'],
  [SeverityNumber.ERROR, 'ERROR'], [SeverityNumber.DEBUG, 'DEBUG']];
for (let i = 0; i < count; i++) {
  const [n, t] = sev[i % 4];
  logger.emit({ severityNumber: n, severityText: t, body: `order ${i} placed`,
                attributes: { n: i, 'user.id': `u${i}`, ok: i % 2 === 0 } });
}
provider.shutdown().then(() => console.log(JSON.stringify({ results })));
