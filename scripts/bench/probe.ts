import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { logs, trace } from '@opentelemetry/api';

/**
 * Loaded into the bot process by the benchmark (`--import`), never by the app. Over the IPC channel it
 * answers samples of the process's own CPU time (all threads) and memory, and starts and stops a V8 CPU
 * profile, so the profile covers the measured rounds and not start-up. Costs nothing between messages.
 * `flush` exports what the bot's span and log processors hold, so a round's export is done (and its CPU
 * counted) within the round rather than during the next setup's round.
 */
type Request =
  | { type: 'sample' }
  | { type: 'flush' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; path: string };

interface Flushable {
  forceFlush?: () => Promise<void>;
  getDelegate?: () => Flushable;
}

if (process.send) {
  let session: Session | undefined;
  process.on('message', async (message: Request) => {
    if (message.type === 'sample') {
      process.send?.({ type: 'sample', cpu: process.cpuUsage(), memory: process.memoryUsage() });
    } else if (message.type === 'flush') {
      // With OTEL_SDK_DISABLED (or no SDK at all) these are the API's no-op providers: nothing to flush.
      const tracerProvider = trace.getTracerProvider() as Flushable;
      const providers = [
        tracerProvider.getDelegate?.() ?? tracerProvider,
        logs.getLoggerProvider() as Flushable,
      ];
      await Promise.allSettled(providers.map((provider) => provider.forceFlush?.()));
      process.send?.({ type: 'flushed' });
    } else if (message.type === 'profile-start') {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      process.send?.({ type: 'profile-started' });
    } else if (message.type === 'profile-stop' && session) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(message.path, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
      process.send?.({ type: 'profile-stopped' });
    }
  });
  // The channel must not keep the bot alive once it has been told to stop.
  process.channel?.unref();
}
