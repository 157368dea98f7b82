import type { Logger } from '../logger.js';
import type { BotMetrics } from '../metrics.js';
import type { ReasonCode } from '../reason-codes.js';
import type { UpdateSummary } from './update-summary.js';
import type { UpdateTelemetry } from './update-telemetry.js';

export type { UpdateSummary } from './update-summary.js';

/** Called by the plugin; a hook that throws is reported to the OTel diag logger, never to the bot. */
export interface TelemetryHooks {
  /** Every finished update's outcome (tests, the shutdown's confirmation, /debug). */
  onUpdateEnd?: (summary: UpdateSummary) => void;
}

export interface TracegramTelemetryOptions {
  logger: Logger;
  /** The app's instruments; also the holder of the instance role, set once at SDK start. */
  metrics: BotMetrics;
  /** Turns a Telegram user id into the stable pseudonym spans carry (the id itself never leaves). */
  pseudonymize: (userId: number) => string;
  /** The Bot API root the bot calls (`server.address`/`server.port` of its spans; default api.telegram.org),
   * and the host a line about an unreachable API names (never the path: it holds the token). */
  apiRoot?: string;
  /** How long a Bot API call may take beyond its long-poll timeout; default DEFAULT_BOTAPI_DEADLINE_MS. */
  apiDeadlineMs?: number;
  hooks?: TelemetryHooks;
}

/** What the plugin adds to the context of every update. */
export interface TelemetryFlavor {
  /** This update's telemetry: root span, stages, outcome. */
  telemetry: UpdateTelemetry;
  log: Logger;
}

/** An outcome as telemetry records it: the reason code and its fixed detail. */
export interface RecordedOutcome {
  code: ReasonCode;
  detail: string | undefined;
}
