/**
 * Tracegram's telemetry contract in code: span names, attribute keys, metric names and labels,
 * log event names. docs/telemetry.md documents each; dashboards, alerts and tests import from here,
 * so a rename breaks the build rather than a graph.
 */

export const INSTRUMENTATION_SCOPE = 'tracegram';

/** Span names. The root span of an update is `SPAN_UPDATE_PREFIX + update type`, e.g. `update callback_query`. */
export const SPAN = {
  UPDATE_PREFIX: 'update ',
  RECEIVED: 'stage received',
  ROUTED: 'stage routed',
  ACCEPTED: 'stage accepted',
  REJECTED: 'stage rejected',
  RENDER: 'stage render',
  /** Bot API calls: `botapi sendMessage`. */
  BOTAPI_PREFIX: 'botapi ',
  /** Store queries follow the database semconv: `{db.operation.name} {db.collection.name}`. */
} as const;

/** Our own span attribute keys; standard ones come from @opentelemetry/semantic-conventions. */
export const ATTR = {
  UPDATE_TYPE: 'tracegram.update.type',
  USER_PSEUDONYM: 'tracegram.user.pseudonym',
  CHAT_TYPE: 'tracegram.chat.type',
  INSTANCE_ROLE: 'tracegram.instance.role',
  SCREEN_ID: 'tracegram.screen_id',
  BUTTON_ID: 'tracegram.button_id',
  HANDLER: 'tracegram.handler',
  OUTCOME: 'tracegram.outcome',
  REASON_CODE: 'tracegram.reason_code',
  /** A short, fixed explanation of a rejection (never user input). */
  REASON_DETAIL: 'tracegram.reason_detail',
  SILENT: 'tracegram.silent',
  /** How many accept/reject decisions a handler made, set only when more than one (a bug). */
  DECISIONS: 'tracegram.decisions',
  /** Seconds since the pressed message was sent (-1: unknown). */
  MESSAGE_AGE: 'tracegram.message.age_s',
  /** Length of a text the user sent; the text itself never enters telemetry. */
  MESSAGE_LENGTH: 'tracegram.message.length',
  /** Which engine served a store query: `pg` or `pglite` (both report db.system.name=postgresql). */
  STORE_ENGINE: 'tracegram.store.engine',
  BOTAPI_METHOD: 'tracegram.botapi.method',
  BOTAPI_OK: 'tracegram.botapi.ok',
  BOTAPI_ERROR_CODE: 'tracegram.botapi.error_code',
  BOTAPI_RETRY_AFTER: 'tracegram.botapi.retry_after',
} as const;

/** Incubating semantic-convention keys, copied here as the semconv package advises; stable ones are imported. */
export const SEMCONV = {
  MESSAGING_SYSTEM: 'messaging.system',
  MESSAGING_OPERATION_TYPE: 'messaging.operation.type',
  MESSAGING_MESSAGE_ID: 'messaging.message.id',
} as const;

export const MESSAGING_SYSTEM_TELEGRAM = 'telegram';

/**
 * Metric instruments. The Prometheus name (what dashboards and alerts query) is derived by the OTLP →
 * Prometheus translation and by our /metrics exporter alike: dots become underscores, the unit is
 * appended (`_seconds`), counters get `_total`. `promName` records it so checks can cross-reference.
 */
export const METRIC = {
  UPDATES: { name: 'tracegram.updates', unit: '', promName: 'tracegram_updates_total' },
  UPDATE_DURATION: {
    name: 'tracegram.update.duration',
    unit: 's',
    promName: 'tracegram_update_duration_seconds',
  },
  SILENT_UPDATES: { name: 'tracegram.silent_updates', unit: '', promName: 'tracegram_silent_updates_total' },
  BOTAPI_CALLS: { name: 'tracegram.botapi.calls', unit: '', promName: 'tracegram_botapi_calls_total' },
  BOTAPI_DURATION: {
    name: 'tracegram.botapi.duration',
    unit: 's',
    promName: 'tracegram_botapi_duration_seconds',
  },
  SCREEN_VIEWS: { name: 'tracegram.screen.views', unit: '', promName: 'tracegram_screen_views_total' },
  INSTANCE_ROLE: { name: 'tracegram.instance.role', unit: '', promName: 'tracegram_instance_role' },
  TELEMETRY_EXPORT_FAILURES: {
    name: 'tracegram.telemetry.export_failures',
    unit: '',
    promName: 'tracegram_telemetry_export_failures_total',
  },
} as const;

/** Metric label keys: low cardinality only, never a user, chat or trace id. */
export const LABEL = {
  UPDATE_TYPE: 'update_type',
  HANDLER: 'handler',
  OUTCOME: 'outcome',
  REASON_CODE: 'reason_code',
  METHOD: 'method',
  ERROR_CODE: 'error_code',
  SCREEN_ID: 'screen_id',
  ROLE: 'role',
  SIGNAL: 'signal',
} as const;

/** Which labels each metric carries; the stack's cross-checks read this instead of a hand-kept list. */
export const METRIC_LABELS: Record<keyof typeof METRIC, readonly string[]> = {
  UPDATES: [LABEL.UPDATE_TYPE, LABEL.HANDLER, LABEL.OUTCOME, LABEL.REASON_CODE],
  UPDATE_DURATION: [LABEL.UPDATE_TYPE, LABEL.HANDLER, LABEL.OUTCOME],
  SILENT_UPDATES: [LABEL.UPDATE_TYPE, LABEL.HANDLER],
  BOTAPI_CALLS: [LABEL.METHOD, LABEL.ERROR_CODE],
  BOTAPI_DURATION: [LABEL.METHOD, LABEL.ERROR_CODE],
  SCREEN_VIEWS: [LABEL.SCREEN_ID],
  INSTANCE_ROLE: [LABEL.ROLE],
  TELEMETRY_EXPORT_FAILURES: [LABEL.SIGNAL],
};

/** `error_code` label value for a Bot API call that succeeded, and for one that never got an HTTP answer. */
export const BOTAPI_OK_CODE = '0';
export const BOTAPI_NETWORK_ERROR_CODE = 'network';

/** Log event names: one vocabulary that follows the user's journey. Every log line has an `event`. */
export const EVENT = {
  UPDATE_RECEIVED: 'UPDATE_RECEIVED',
  COMMAND_START: 'COMMAND_START',
  COMMAND_HELP: 'COMMAND_HELP',
  MESSAGE_RECEIVED: 'MESSAGE_RECEIVED',
  CALLBACK_RECEIVED: 'CALLBACK_RECEIVED',
  CALLBACK_ROUTED: 'CALLBACK_ROUTED',
  MESSAGE_ROUTED: 'MESSAGE_ROUTED',
  CALLBACK_ACCEPTED: 'CALLBACK_ACCEPTED',
  CALLBACK_REJECTED: 'CALLBACK_REJECTED',
  MESSAGE_ACCEPTED: 'MESSAGE_ACCEPTED',
  MESSAGE_REJECTED: 'MESSAGE_REJECTED',
  UI_RENDER: 'UI_RENDER',
  ANSWER_CALLBACK_QUERY: 'ANSWER_CALLBACK_QUERY',
  BOTAPI_ERROR: 'BOTAPI_ERROR',
  DISPATCH_OK: 'DISPATCH_OK',
  DISPATCH_FAIL: 'DISPATCH_FAIL',
  FAILURE_REPLY_FAILED: 'FAILURE_REPLY_FAILED',
  SILENT_UPDATE: 'SILENT_UPDATE',
  DUPLICATE_OUTCOME: 'DUPLICATE_OUTCOME',
  HTTP_ERROR: 'HTTP_ERROR',
  STORE_ERROR: 'STORE_ERROR',
  WEBHOOK_REJECTED: 'WEBHOOK_REJECTED',
  MALFORMED_UPDATE: 'MALFORMED_UPDATE',
  /** A trace-page link that is unsigned, forged or expired (403). */
  DEBUG_LINK_REJECTED: 'DEBUG_LINK_REJECTED',
  TELEMETRY_ERROR: 'TELEMETRY_ERROR',
  APP_STARTING: 'APP_STARTING',
  APP_READY: 'APP_READY',
  APP_START_FAILED: 'APP_START_FAILED',
  POLLING_STOPPED: 'POLLING_STOPPED',
  APP_STOPPING: 'APP_STOPPING',
  SHUTDOWN_STEP_FAILED: 'SHUTDOWN_STEP_FAILED',
  APP_STOPPED: 'APP_STOPPED',
  CONFIG_INVALID: 'CONFIG_INVALID',
  MIGRATION_APPLIED: 'MIGRATION_APPLIED',
} as const;

export type EventName = (typeof EVENT)[keyof typeof EVENT];

/** Log record fields that carry the trace context (the names Loki's structured metadata and pino use). */
export const LOG_FIELD = {
  TRACE_ID: 'trace_id',
  SPAN_ID: 'span_id',
  TRACE_FLAGS: 'trace_flags',
  EVENT: 'event',
  REASON_CODE: 'reason_code',
} as const;
