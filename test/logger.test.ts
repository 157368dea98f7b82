import { spawn } from 'node:child_process';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { expect, test } from 'vitest';
import { logFields } from '../src/telemetry/grammy/update-span.js';
import { createLogger } from '../src/telemetry/logger.js';

/** What the logger writes to stdout and to OpenTelemetry, seen from outside. */
function capture() {
  const lines: string[] = [];
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
    otelLogger: provider.getLogger('test'),
  });
  return { logger, lines, records: () => exporter.getFinishedLogRecords() };
}

const PERSONAL = {
  text: 'my secret prompt about Kyiv',
  first_name: 'Olena',
  last_name: 'Shevchenko',
  username: 'olena_sh',
  phone_number: '+380501234567',
};

/** A whole callback_query update as Telegram sends it: personal fields three and four levels down. */
const update = {
  update_id: 99,
  callback_query: {
    id: '77',
    from: { id: 123456789, is_bot: false, first_name: PERSONAL.first_name, username: PERSONAL.username },
    message: {
      message_id: 5,
      chat: {
        id: 123456789,
        type: 'private',
        first_name: PERSONAL.first_name,
        last_name: PERSONAL.last_name,
        username: PERSONAL.username,
      },
      text: PERSONAL.text,
      reply_to_message: {
        message_id: 4,
        contact: { phone_number: PERSONAL.phone_number, first_name: PERSONAL.first_name },
      },
      entities: [{ type: 'mention', offset: 0, length: 5, user: { id: 1, last_name: PERSONAL.last_name } }],
    },
    data: '1.mm.c.im',
  },
};

test('a whole update logged by mistake leaves no name, username, phone number or text in any output', () => {
  const { logger, lines, records } = capture();
  logger.info({ event: 'UPDATE_RECEIVED', update }, 'received');
  const written = [...lines, JSON.stringify(records().map((r) => [r.body, r.attributes]))].join('\n');
  for (const value of Object.values(PERSONAL)) expect(written).not.toContain(value);
  // What is not personal stays readable.
  expect(written).toContain('1.mm.c.im');
  expect(written).toContain('private');
});

test('an err is exported as exception.type, exception.message and exception.stacktrace', () => {
  const { logger, records } = capture();
  logger.error({ event: 'DISPATCH_FAIL', err: new TypeError('cannot read x') }, 'failed');
  const [record] = records();
  expect(record?.attributes).toMatchObject({
    'exception.type': 'TypeError',
    'exception.message': 'cannot read x',
  });
  expect(String(record?.attributes['exception.stacktrace'])).toContain('TypeError: cannot read x');
  expect(record?.attributes.err).toBeUndefined();
});

test('the record keeps the full, sub-millisecond precision of the line time', () => {
  const { logger, lines, records } = capture();
  logger.info({ event: 'APP_READY' }, 'ready');
  const time = (JSON.parse(lines[0] as string) as { time: string }).time;
  const fraction = /\.(\d+)Z$/.exec(time)?.[1] ?? '';
  expect(fraction).toHaveLength(9);
  const [seconds, nanos] = records()[0]?.hrTime ?? [0, 0];
  expect(seconds).toBe(Date.parse(time) / 1000 - (Date.parse(time) % 1000) / 1000);
  expect(nanos).toBe(Number(fraction));
});

test('stdout under back-pressure holds a bounded buffer, drops the rest and counts it', async () => {
  // A child process logs 40 MB to a stdout that nobody reads; it reports its buffered bytes and drops.
  const script = `
    import { createLogger, stdoutDestination } from './src/telemetry/logger.ts';
    let dropped = 0;
    const destination = stdoutDestination(() => { dropped += 1; }, 1024 * 1024);
    const logger = createLogger({ level: 'info', destination });
    const filler = 'x'.repeat(1000);
    for (let i = 0; i < 40_000; i += 1) logger.info({ event: 'FILLER', filler }, 'filler');
    process.stderr.write(JSON.stringify({ buffered: destination._len, dropped }) + '\\n');
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pause();
  let stderr = '';
  // Its stdout never drains, so it cannot exit by itself: stop it once it has reported.
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('"dropped"')) resolve();
    });
    child.once('exit', () => resolve());
  });
  child.kill('SIGKILL');
  const report = JSON.parse(stderr.trim().split('\n').at(-1) ?? '{}') as {
    buffered: number;
    dropped: number;
  };
  expect(report.buffered, stderr).toBeLessThanOrEqual(1024 * 1024);
  expect(report.dropped).toBeGreaterThan(30_000);
}, 60_000);

/** Runs `script` (ESM, from the repository root) and collects what it writes to stdout, with arrival times. */
function runLogging(
  script: string,
): Promise<{ lines: Array<{ at: number; event: string }>; closedAt: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Array<{ at: number; event: string }> = [];
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) lines.push({ at: performance.now(), event: JSON.parse(line).event });
  });
  return new Promise((resolve) => child.once('close', () => resolve({ lines, closedAt: performance.now() })));
}

test('a lone line reaches stdout within a fraction of a second, though stdout is batched', async () => {
  // One line, then the process stays up for 3 s with nothing else to log: the batch never fills.
  const { lines, closedAt } = await runLogging(`
    import { createLogger, stdoutDestination } from './src/telemetry/logger.ts';
    const logger = createLogger({ level: 'info', destination: stdoutDestination(() => {}) });
    logger.info({ event: 'LONE' }, 'lone');
    setTimeout(() => process.exit(0), 3000);
  `);
  expect(lines.map((line) => line.event)).toEqual(['LONE']);
  // It arrived long before the exit that would have flushed it anyway (the flush interval is 100 ms).
  expect(closedAt - (lines[0]?.at ?? closedAt)).toBeGreaterThan(2000);
}, 30_000);

test('lines still in the batch are written when the process exits', async () => {
  const { lines } = await runLogging(`
    import { createLogger, stdoutDestination } from './src/telemetry/logger.ts';
    const logger = createLogger({ level: 'info', destination: stdoutDestination(() => {}) });
    for (let i = 0; i < 3; i += 1) logger.info({ event: 'LAST_WORDS' }, 'bye');
    process.exit(0);
  `);
  expect(lines.map((line) => line.event)).toEqual(['LAST_WORDS', 'LAST_WORDS', 'LAST_WORDS']);
}, 30_000);

test.each([
  ['tracegram.reason_code', 'reason_code'],
  ['tracegram.botapi.retry_after', 'botapi_retry_after'],
  ['tracegram.update.queue.wait_s', 'update_queue_wait_s'],
  ['error.type', 'error.type'],
])('stage attribute %s is the log field %s (every dot after the prefix replaced)', (key, field) => {
  expect(Object.keys(logFields({ [key]: 1 }))).toEqual([field]);
});
