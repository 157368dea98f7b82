/**
 * What the OpenTelemetry JS SDK alone costs for one Tracegram update's spans, outside the bot:
 * `node --import tsx scripts/bench/span-cost.ts`. Nine spans of Tracegram's shapes per "update" (a
 * CONSUMER root, stage instants, Bot API and store CLIENT spans), recorded with no processor, then
 * recorded and exported through a BatchSpanProcessor and the OTLP/protobuf exporter to a local server
 * that answers 200; and the protobuf serialisation of the same spans on its own. CPU of the process,
 * all threads. docs/benchmarks.md quotes it as the floor the telemetry target is measured against.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Attributes, context, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

const UPDATES = 20_000;
const STORE: Attributes = {
  'db.system.name': 'postgresql',
  'tracegram.store.engine': 'pg',
  'db.operation.name': 'INSERT',
  'db.collection.name': 'sessions',
  'db.namespace': 'tracegram',
  'server.address': '127.0.0.1',
  'server.port': 5432,
  'db.query.text':
    'INSERT INTO sessions (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
};
const BOT_API: Attributes = {
  'tracegram.botapi.method': 'editMessageText',
  'http.request.method': 'POST',
  'url.template': '/bot{token}/{method}',
  'server.address': '127.0.0.1',
  'server.port': 8081,
  'tracegram.botapi.ok': true,
  'http.response.status_code': 200,
};
const CHILDREN: Array<[string, SpanKind, Attributes]> = [
  [
    'stage received',
    SpanKind.INTERNAL,
    { 'tracegram.button_id': 'HELP', 'tracegram.screen_id': 'MAIN_MENU' },
  ],
  ['stage routed', SpanKind.INTERNAL, { 'tracegram.handler': 'menu', 'tracegram.button_id': 'HELP' }],
  ['stage accepted', SpanKind.INTERNAL, { 'tracegram.reason_code': 'SUCCESS' }],
  ['stage render', SpanKind.INTERNAL, { 'tracegram.screen_id': 'BALANCE' }],
  ['botapi editMessageText', SpanKind.CLIENT, BOT_API],
  ['botapi answerCallbackQuery', SpanKind.CLIENT, { ...BOT_API, 'tracegram.botapi.webhook_reply': true }],
  ['INSERT processed_updates', SpanKind.CLIENT, STORE],
  ['INSERT sessions', SpanKind.CLIENT, STORE],
];

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

async function updates(provider: TracerProvider, count: number): Promise<void> {
  const tracer = provider.getTracer('tracegram', '0.1.0');
  for (let i = 0; i < count; i += 1) {
    const root = tracer.startSpan('update callback_query', {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'telegram',
        'messaging.operation.type': 'process',
        'messaging.message.id': String(i),
        'tracegram.user.pseudonym': `u_${(i % 5000).toString(36).padStart(16, '0')}`,
        'tracegram.outcome': 'success',
        'tracegram.reason_code': 'SUCCESS',
      },
    });
    const parent = trace.setSpan(context.active(), root);
    for (const [name, kind, attributes] of CHILDREN) {
      await tracer.startActiveSpan(name, { kind, attributes }, parent, async (span) => span.end());
    }
    root.end();
    // Let the batch processor's timers and the exporter's requests run, as the bot's event loop does.
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

async function cpuPerUpdate(processors: SpanProcessor[]): Promise<number> {
  const provider = new TracerProvider({ spanProcessors: processors });
  await updates(provider, 3_000);
  const before = process.cpuUsage();
  await updates(provider, UPDATES);
  await provider.forceFlush();
  const used = process.cpuUsage(before);
  await provider.shutdown();
  return (used.user + used.system) / UPDATES;
}

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200).end());
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;

const recorded = await cpuPerUpdate([]);
const exported = await cpuPerUpdate([new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }) })]);
server.close();

const memory = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
await updates(provider, 512 / (CHILDREN.length + 1));
const spans = memory.getFinishedSpans();
for (let i = 0; i < 50; i += 1) ProtobufTraceSerializer.serializeRequest(spans);
const before = process.cpuUsage();
for (let i = 0; i < 400; i += 1) ProtobufTraceSerializer.serializeRequest(spans);
const used = process.cpuUsage(before);
const perSpan = (used.user + used.system) / 400 / spans.length;

const spansPerUpdate = CHILDREN.length + 1;
process.stdout.write(
  `${spansPerUpdate} spans per update, ${UPDATES} updates:\n` +
    `  recorded, no processor:                    ${recorded.toFixed(0)} µs CPU per update\n` +
    `  recorded and exported (batch, OTLP/proto): ${exported.toFixed(0)} µs CPU per update\n` +
    `  protobuf serialisation alone:              ${perSpan.toFixed(2)} µs per span, ${(perSpan * spansPerUpdate).toFixed(0)} µs per update\n`,
);
