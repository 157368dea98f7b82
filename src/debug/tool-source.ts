import { ConfigError, loadToolConfig, type ToolConfig } from '../config.js';
import { AdminApiSource } from './admin-api-source.js';
import type { CommandResult } from './commands.js';
import { TempoLokiSource } from './tempo-loki-source.js';
import type { TraceSource } from './trace-source.js';

/** Tempo (and Loki) when configured, else the running bot's admin API; undefined: neither is usable. */
export function toolSource(config: ToolConfig): TraceSource | undefined {
  if (config.tempoUrl) return new TempoLokiSource({ tempoUrl: config.tempoUrl, lokiUrl: config.lokiUrl });
  if (config.adminApiToken)
    return new AdminApiSource({ url: config.adminApiUrl, token: config.adminApiToken });
  return undefined;
}

export const NO_SOURCE_MESSAGE =
  'no telemetry source: set TEMPO_URL (and LOKI_URL) to read the stack, or ADMIN_API_TOKEN (and ADMIN_API_URL, ' +
  'default http://127.0.0.1:<METRICS_PORT>) to ask the running bot';

/**
 * The shell of `npm run diagnose` and `npm run replay`: config and source from the environment, the
 * command's output and exit status; a configuration problem is one line on stderr and exit 2.
 */
export async function runTool(
  command: (config: ToolConfig, source: TraceSource) => Promise<CommandResult>,
): Promise<void> {
  try {
    const config = loadToolConfig();
    const source = toolSource(config);
    if (!source) throw new ConfigError(NO_SOURCE_MESSAGE);
    const result = await command(config, source);
    process.stdout.write(result.stdout);
    if (result.stderr) process.stderr.write(`${result.stderr}\n`);
    process.exitCode = result.exitCode;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  }
}
