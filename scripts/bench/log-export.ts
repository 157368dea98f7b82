/**
 * Log export: the in-process bridge (src/telemetry/logger.ts) against pino-opentelemetry-transport (a
 * worker thread with its own SDK), on CPU per update and on correctness of what arrives.
 *
 *   npm i --no-save --prefix /tmp/tb pino-opentelemetry-transport@4.0.2
 *   TRANSPORT=/tmp/tb/node_modules/pino-opentelemetry-transport node --import tsx scripts/bench/log-export.ts
 *
 * Each round runs every mode in a fresh process: `none` (stdout only, the baseline), `bridge` and
 * `transport`, both exporting OTLP/HTTP JSON to a receiver in a separate process, so its CPU is not
 * counted. An update is a root span with two children and six log lines written inside them, one in
 * ten with an `err`. CPU is process.cpuUsage() (user + system, all threads, the worker included) from
 * the first update until every record is flushed; the figure is the median over rounds, per update,
 * minus `none`. The receiver checks each record's trace and span id against the ids the line was
 * written under, its severity, its exception attributes and whether its timestamp has sub-ms digits.
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const UPDATES = Number(process.env.UPDATES ?? 3000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const MODES = ['none', 'bridge', 'transport'] as const;
type Mode = (typeof MODES)[number];

interface Check {
  records: number;
  correlated: number;
  severityOk: number;
  exceptionOk: number;
  subMs: number;
}

async function receiver(): Promise<{ url: string; take: () => Check; close: () => void }> {
  let check: Check = { records: 0, correlated: 0, severityOk: 0, exceptionOk: 0, subMs: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const parsed = JSON.parse(body) as {
        resourceLogs: Array<{ scopeLogs: Array<{ logRecords: Array<Record<string, unknown>> }> }>;
      };
      for (const record of parsed.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords))) {
        const attrs = Object.fromEntries(
          (record.attributes as Array<{ key: string; value: Record<string, unknown> }>).map((a) => [
            a.key,
            Object.values(a.value)[0],
          ]),
        );
        check.records += 1;
        if (record.traceId === attrs.expect_trace && record.spanId === attrs.expect_span)
          check.correlated += 1;
        if (record.severityNumber === (attrs.expect_severity === 'warn' ? 13 : 9)) check.severityOk += 1;
        if (attrs.expect_severity !== 'warn' || attrs['exception.type'] === 'TypeError')
          check.exceptionOk += 1;
        if (!String(record.timeUnixNano).endsWith('000000')) check.subMs += 1;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    take: () => {
      const taken = check;
      check = { records: 0, correlated: 0, severityOk: 0, exceptionOk: 0, subMs: 0 };
      return taken;
    },
    close: () => server.close(),
  };
}

/** One mode in this process: write the workload, flush, report CPU. */
async function runMode(mode: Mode): Promise<number> {
  const { context, trace } = await import('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { TracerProvider } = await import('@opentelemetry/sdk-trace');
  const { LoggerProvider, BatchLogRecordProcessor } = await import('@opentelemetry/sdk-logs');
  const { OTLPLogExporter } = await import('@opentelemetry/exporter-logs-otlp-http');
  const { pino } = await import('pino');
  const { createLogger } = await import('../../src/telemetry/logger.js');

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new TracerProvider());
  const tracer = trace.getTracer('bench');
  const devNull = pino.destination({ dest: '/dev/null', sync: false });
  let flush = async () => {};
  let destination: import('pino').DestinationStream = devNull;
  let otelLogger: import('@opentelemetry/api').Logger | undefined;

  if (mode === 'bridge') {
    const provider = new LoggerProvider({
      processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })],
    });
    otelLogger = provider.getLogger('bench');
    flush = () => provider.shutdown();
  } else if (mode === 'transport') {
    const transport = pino.transport({
      target: process.env.TRANSPORT ?? '',
      options: { loggerName: 'bench' },
    });
    destination = pino.multistream([{ stream: devNull }, { stream: transport }]);
    // Not counted: starting the worker and loading its SDK, a one-off cost (its 'ready' may come before
    // a listener could be attached, so give it a fixed head start).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // The worker flushes its SDK on close; its thread's exit is the one signal that always comes.
    flush = () =>
      new Promise<void>((resolve) => {
        (transport as unknown as { worker: import('node:worker_threads').Worker }).worker.once('exit', () =>
          resolve(),
        );
        transport.end();
      });
  }
  // The transport needs pino's defaults: with our ISO time it exports nothing (docs/architecture.md),
  // with label levels its severity is 0. So it runs with numeric levels, epoch-ms time and the same mixin.
  const logger =
    mode === 'transport'
      ? pino(
          {
            level: 'info',
            base: undefined,
            mixin: () => {
              const ids = trace.getActiveSpan()?.spanContext();
              return ids ? { trace_id: ids.traceId, span_id: ids.spanId, trace_flags: '01' } : {};
            },
          },
          destination,
        )
      : createLogger({ level: 'info', destination, ...(otelLogger ? { otelLogger } : {}) });
  const error = new TypeError('cannot read x');

  const start = process.cpuUsage();
  for (let u = 0; u < UPDATES; u += 1) {
    const root = tracer.startSpan('update message');
    await context.with(trace.setSpan(context.active(), root), async () => {
      for (let child = 0; child < 2; child += 1) {
        const span = tracer.startSpan(`stage ${child}`);
        context.with(trace.setSpan(context.active(), span), () => {
          for (let line = 0; line < 3; line += 1) {
            const ids = span.spanContext();
            const fields = {
              event: 'CALLBACK_ROUTED',
              handler: 'catalogue',
              screen_id: 'MODEL_PICK',
              button_id: 'model',
              reason_code: 'SUCCESS',
              expect_trace: ids.traceId,
              expect_span: ids.spanId,
            };
            if (u % 10 === 0 && child === 1 && line === 2) {
              logger.warn({ ...fields, err: error, expect_severity: 'warn' }, 'answer failed');
            } else {
              logger.info({ ...fields, expect_severity: 'info' }, 'routed');
            }
          }
        });
        span.end();
      }
    });
    root.end();
    if (u % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await flush();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / UPDATES;
}

async function main(): Promise<void> {
  const child = process.argv[2] as Mode | undefined;
  if (child) {
    const microsPerUpdate = await runMode(child);
    process.send?.({ microsPerUpdate });
    return;
  }
  const rx = await receiver();
  const results: Record<Mode, number[]> = { none: [], bridge: [], transport: [] };
  const checks: Partial<Record<Mode, Check>> = {};
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const mode of MODES) {
      const worker = fork(fileURLToPath(import.meta.url), [mode], {
        execArgv: ['--import', 'tsx'],
        env: {
          ...process.env,
          OTEL_EXPORTER_OTLP_ENDPOINT: rx.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
        },
      });
      const { microsPerUpdate } = await new Promise<{ microsPerUpdate: number }>((resolve) =>
        worker.once('message', (message) => resolve(message as { microsPerUpdate: number })),
      );
      await new Promise((resolve) => worker.once('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, 300));
      results[mode].push(microsPerUpdate);
      process.stderr.write(`round ${round + 1} ${mode}: ${microsPerUpdate.toFixed(0)} µs/update\n`);
      checks[mode] = rx.take();
    }
  }
  rx.close();
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const base = median(results.none);
  process.stdout.write(`updates per round ${UPDATES}, 6 lines each, ${ROUNDS} rounds\n`);
  for (const mode of MODES) {
    const c = checks[mode];
    process.stdout.write(
      `${mode.padEnd(9)} CPU/update median ${median(results[mode]).toFixed(0)} µs` +
        ` (+${(median(results[mode]) - base).toFixed(0)} over none; rounds ${results[mode].map((v) => v.toFixed(0)).join(', ')})` +
        (c && mode !== 'none'
          ? `; records ${c.records}/${UPDATES * 6}, correlated ${c.correlated}, severity ok ${c.severityOk}, exception.* ok ${c.exceptionOk}, sub-ms time ${c.subMs}`
          : '') +
        '\n',
    );
  }
}

await main();
