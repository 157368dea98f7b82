/**
 * Entry point. Only config and the telemetry SDK are imported statically: the SDK is running before the
 * app's own modules (grammY, pino, fastify, pg) are loaded, so nothing is created without a provider.
 */
import closeWithGrace from 'close-with-grace';
import packageJson from '../package.json' with { type: 'json' };
import { ConfigError, loadConfig } from './config.js';
import { describeError } from './errors.js';
import { EVENT } from './telemetry/conventions.js';
import { startTelemetry } from './telemetry/sdk.js';

/** How long after the shutdown deadline the process is killed if the shutdown itself hangs. */
const KILL_MARGIN_MS = 1_000;

/** For lines written when there is no app logger yet, or just before the process exits. */
function fatal(event: string, message: string): void {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', time: new Date().toISOString(), event, msg: message })}\n`,
  );
  process.exitCode = 1;
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) return fatal(EVENT.CONFIG_INVALID, error.message);
    throw error;
  }

  const telemetry = startTelemetry({ config: config.telemetry, serviceVersion: packageJson.version });

  const { createApp } = await import('./app.js');
  // A bot that gets no updates should not linger.
  const app = createApp(config, telemetry, { onFatal: (reason) => fail(reason) });
  let failure: string | undefined;
  const abandonStart = new AbortController();
  let starting: Promise<void> | undefined;
  // Every exit path ends here: one shutdown within SHUTDOWN_TIMEOUT_MS (the app bounds each step by it), so
  // the last spans and logs, often the ones that explain the exit, are shipped. A second signal, or a
  // shutdown that overruns the deadline, exits at once (close-with-grace).
  const closer = closeWithGrace(
    {
      delay: config.shutdownTimeoutMs + KILL_MARGIN_MS,
      logger: false,
      onSecondSignal: (signal) => fatal(EVENT.SHUTDOWN_FORCED, `second ${signal}: exiting now`),
      onTimeout: (delay) => fatal(EVENT.SHUTDOWN_FORCED, `shutdown still running after ${delay} ms`),
    },
    async ({ signal, err }) => {
      if (err) app.logger.fatal({ event: EVENT.APP_CRASHED, detail: describeError(err) }, 'uncaught error');
      // A signal during start-up abandons the start (grammY retries getMe with backoff), then stops what
      // it brought up.
      abandonStart.abort();
      await starting?.catch(() => undefined);
      await app.stop(signal ?? failure ?? (err ? 'uncaught error' : 'stop requested'));
      // close-with-grace exits 0 after a manual close; an orchestrator restarts a process that exits non-zero.
      if (failure) process.exit(1);
    },
  );
  const fail = (reason: string) => {
    failure ??= reason;
    closer.close();
  };

  starting = app.start(abandonStart.signal);
  try {
    await starting;
  } catch (error) {
    // A start abandoned for a signal is a normal stop, not a failed start.
    if (abandonStart.signal.aborted) return;
    app.logger.fatal({ event: EVENT.APP_START_FAILED, detail: describeError(error) }, 'start failed');
    fail('start failed');
  }
}

main().catch((error: unknown) => fatal(EVENT.APP_START_FAILED, describeError(error)));
