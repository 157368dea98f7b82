import type { ToolConfig } from '../config.js';
import { AdminApiSource } from './admin-api-source.js';
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
