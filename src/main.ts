/**
 * Entry point. Only config and the telemetry SDK are imported statically: the SDK is running before the
 * app's own modules (grammY, pino, fastify, pg) are loaded, so nothing is created without a provider.
 */
import packageJson from '../package.json' with { type: 'json' };
import { ConfigError, loadConfig } from './config.js';
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
  const app = await createApp(config, telemetry, {
    // An orchestrator restarts a process that exits non-zero; a bot that gets no updates should not linger.
    onFatal: (reason) => {
      process.exitCode = 1;
      void stop(reason);
    },
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ event: EVENT.APP_STOPPING, signal }, 'signal received');
    await app.stop();
    await telemetry.shutdown();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  try {
    await app.start();
  } catch (error) {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    app.logger.fatal({ event: EVENT.APP_START_FAILED, detail }, 'start failed');
    process.exitCode = 1;
    await app.stop().catch(() => undefined);
    await telemetry.shutdown();
  }
}

main().catch((error: unknown) => {
  fatal(EVENT.APP_START_FAILED, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
});
