import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * Loaded into the bot process by the benchmark (`--import`), never by the app. Over the IPC channel it
 * answers samples of the process's own CPU time (all threads) and memory, and starts and stops a V8 CPU
 * profile, so the profile covers the measured rounds and not start-up. Costs nothing between messages.
 */
type Request = { type: 'sample' } | { type: 'profile-start' } | { type: 'profile-stop'; path: string };

if (process.send) {
  let session: Session | undefined;
  process.on('message', async (message: Request) => {
    if (message.type === 'sample') {
      process.send?.({ type: 'sample', cpu: process.cpuUsage(), memory: process.memoryUsage() });
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
