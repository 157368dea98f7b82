import { expect, test } from 'vitest';
import { LogRecorder } from '../../src/telemetry/log-recorder.js';

const id = (n: number) => n.toString(16).padStart(32, 'a');
const line = (traceId: string | undefined, event: string) =>
  JSON.stringify({
    level: 'info',
    event,
    ...(traceId ? { trace_id: traceId, span_id: '1'.repeat(16) } : {}),
  });

test("keeps each update's lines by cid, in order, and nothing outside an update", () => {
  const recorder = new LogRecorder();
  recorder.write(line(undefined, 'APP_READY'));
  recorder.write(line(id(1), 'UPDATE_RECEIVED'));
  recorder.write(line(id(2), 'UPDATE_RECEIVED'));
  recorder.write(line(id(1), 'DISPATCH_OK'));
  expect(recorder.lines(id(1)).map((l) => l.event)).toEqual(['UPDATE_RECEIVED', 'DISPATCH_OK']);
  expect(recorder.lines(id(3))).toEqual([]);
});

test('stays bounded: oldest traces go first, and a chatty update cannot fill memory', () => {
  const recorder = new LogRecorder({ maxTraces: 2, maxLinesPerTrace: 3 });
  for (let t = 1; t <= 3; t += 1) for (let i = 0; i < 5; i += 1) recorder.write(line(id(t), `E${i}`));
  expect(recorder.lines(id(1))).toEqual([]);
  expect(recorder.lines(id(2)).map((l) => l.event)).toEqual(['E0', 'E1', 'E2']);
  expect(recorder.lines(id(3))).toHaveLength(3);
});
