/**
 * Entry point. Only config and the telemetry SDK are imported statically: the SDK is running before the
 * app's own modules (grammY, pino, fastify, pg) are loaded, so nothing is created without a provider.
 */
import packageJson from '../package.json' with { type: 'json' };
import { ConfigError, loadConfig } from './config.js';
import { describeError } from './errors.js';
import { EVENT } from './telemetry/conventions.js';
import { startTelemetry } from './telemetry/sdk.js';

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

  const telemetry = startTelemetry({
    serviceName: config.telemetry.serviceName,
    serviceVersion: packageJson.version,
    otlpEndpoint: config.telemetry.otlpEndpoint,
    otlpProtocol: config.telemetry.otlpProtocol,
  });

  const { createApp } = await import('./app.js');
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  const abandonStart = new AbortController();
  // Every exit path ends here, so the last spans and logs (often the ones that explain the exit) are flushed.
  // A signal during start-up waits for the start to settle, then stops what it brought up.
  const stop = (reason: string) => {
    stopping ??= (async () => {
      abandonStart.abort();
      await starting?.catch(() => undefined);
      await app
        ?.stop(reason)
        .catch((error: unknown) => fatal(EVENT.SHUTDOWN_STEP_FAILED, describeError(error)));
      await telemetry.shutdown();
    })();
    return stopping;
  };
  // `on`, not `once`: a second signal must not fall back to Node's default (die now, flush nothing).
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  starting = (async () => {
    app = await createApp(config, telemetry, {
      // An orchestrator restarts a process that exits non-zero; a bot that gets no updates should not linger.
      onFatal: (reason) => {
        process.exitCode = 1;
        void stop(reason);
      },
    });
    // A signal that arrived while the store was opening: do not start taking updates at all.
    if (!stopping) await app.start(abandonStart.signal);
  })();
  try {
    await starting;
  } catch (error) {
    // A start abandoned for a signal is a normal stop, not a failed start.
    if (abandonStart.signal.aborted) return stop('start abandoned');
    const detail = describeError(error);
    if (app) app.logger.fatal({ event: EVENT.APP_START_FAILED, detail }, 'start failed');
    else fatal(EVENT.APP_START_FAILED, detail);
    process.exitCode = 1;
    await stop('start failed');
  }
}

main().catch((error: unknown) => fatal(EVENT.APP_START_FAILED, describeError(error)));
