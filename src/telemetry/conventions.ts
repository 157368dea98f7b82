/**
 * Tracegram's telemetry contract in code: span names, attribute keys, metric names and labels,
 * log event names. docs/telemetry.md documents each; dashboards, alerts and tests import from here,
 * so a rename breaks the build rather than a graph.
 */

import { PLUGIN_ATTR, PLUGIN_EVENT, PLUGIN_SPAN } from './grammy/conventions.js';

export {
  BOTAPI_NETWORK_ERROR_CODE,
  BOTAPI_OK_CODE,
  MESSAGING_SYSTEM_TELEGRAM,
  SEMCONV,
} from './grammy/conventions.js';

export const INSTRUMENTATION_SCOPE = 'tracegram';

/** Span names: the plugin's, plus store queries, which follow the database semconv
 * (`{db.operation.name} {db.collection.name}`), and money operations. */
export const SPAN = {
  ...PLUGIN_SPAN,
  /** One money operation around its store queries: `ledger reserve`, `ledger credit`, … */
  LEDGER_PREFIX: 'ledger ',
  /** Generation: reserve + create the job + enqueue, in the update that pressed Generate. */
  JOB_ENQUEUE: 'job enqueue',
  /** The provider's submit call (CLIENT), under pg-boss's `process generation` span. */
  PROVIDER_SUBMIT: 'provider submit',
  /** Downloading the finished result from the provider (CLIENT). */
  PROVIDER_RESULT: 'provider result',
  /** The provider's callback (SERVER), continuing the job's trace. */
  PROVIDER_CALLBACK: 'provider callback',
  /** Sending the result to the user; its `botapi sendPhoto` is a child. */
  JOB_DELIVER: 'job deliver',
  /** Failing a job and refunding it, wherever that happens (worker, callback, sweep). */
  JOB_FAIL: 'job fail',
  /** The deadline sweep: a trace of its own per expired job, linked to the job's trace. */
  JOB_SWEEP: 'job sweep',
} as const;

/** Span names pg-boss's own OpenTelemetry support produces for the generation queue (PRODUCER, CONSUMER). */
export const QUEUE_SPAN = {
  SEND: 'send generation',
  PROCESS: 'process generation',
} as const;

/** Our own span attribute keys; standard ones come from @opentelemetry/semantic-conventions. */
export const ATTR = {
  ...PLUGIN_ATTR,
  BUTTON_ID: 'tracegram.button_id',
  /** Seconds since the pressed message was sent (-1: unknown). */
  MESSAGE_AGE: 'tracegram.message.age_s',
  /** Length of a text the user sent; the text itself never enters telemetry. */
  MESSAGE_LENGTH: 'tracegram.message.length',
  /** What a message the bot does not take carried: `sticker`, `photo`, `voice`, `document`, `other`. */
  MESSAGE_KIND: 'tracegram.message.kind',
  /** The bot command a message carried (`start`, `debug`, …), for commands the bot knows. */
  COMMAND: 'tracegram.command',
  /** Which engine served a store query: `pg` or `pglite` (both report db.system.name=postgresql). */
  STORE_ENGINE: 'tracegram.store.engine',
  /** Credits moved by a ledger operation (absent when it moved none). */
  LEDGER_AMOUNT: 'tracegram.ledger.amount',
  /** The top-up package of a pre-checkout query or payment (an id from src/catalogue/packages.ts). */
  PAYMENT_PACKAGE: 'tracegram.payment.package',
  /** What the user pays or paid, in Stars. */
  PAYMENT_STARS: 'tracegram.payment.stars',
  /** What a ledger operation did: `credited`, `duplicate`, `reserved`, `insufficient`, `charged`, … */
  LEDGER_RESULT: 'tracegram.ledger.result',
  JOB_ID: 'tracegram.job.id',
  JOB_MODEL: 'tracegram.job.model',
  JOB_STATE: 'tracegram.job.state',
  JOB_PRICE: 'tracegram.job.price',
  /** On `job enqueue` for a Repeat: the delivered job being repeated. */
  JOB_REPEAT_OF: 'tracegram.job.repeat_of',
  PROVIDER_TASK_ID: 'tracegram.provider.task_id',
  /** What the provider said about a task in its callback: `success` or `fail`. */
  PROVIDER_STATE: 'tracegram.provider.state',
  /** true on a callback for a task already settled (a duplicate or one after the deadline). */
  PROVIDER_DUPLICATE: 'tracegram.provider.duplicate',
  /** The provider's error kind: `http_status`, `rejected`, `timeout`, `network`, `bad_response`, `task_failed`. */
  PROVIDER_ERROR_KIND: 'tracegram.provider.error_kind',
} as const;

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
  UPDATE_AGE: { name: 'tracegram.update.age', unit: 's', promName: 'tracegram_update_age_seconds' },
  UPDATE_QUEUE_WAIT: {
    name: 'tracegram.update.queue_wait',
    unit: 's',
    promName: 'tracegram_update_queue_wait_seconds',
  },
  SCREEN_VIEWS: { name: 'tracegram.screen.views', unit: '', promName: 'tracegram_screen_views_total' },
  INSTANCE_ROLE: { name: 'tracegram.instance.role', unit: '', promName: 'tracegram_instance_role' },
  LOG_LINES_DROPPED: {
    name: 'tracegram.log.dropped_lines',
    unit: '',
    promName: 'tracegram_log_dropped_lines_total',
  },
  LEDGER_OPERATIONS: {
    name: 'tracegram.ledger.operations',
    unit: '',
    promName: 'tracegram_ledger_operations_total',
  },
  LEDGER_CREDITS: { name: 'tracegram.ledger.credits', unit: '', promName: 'tracegram_ledger_credits_total' },
  PAYMENT_STARS: { name: 'tracegram.payments.stars', unit: '', promName: 'tracegram_payments_stars_total' },
  JOBS: { name: 'tracegram.jobs', unit: '', promName: 'tracegram_jobs_total' },
  JOB_DURATION: { name: 'tracegram.job.duration', unit: 's', promName: 'tracegram_job_duration_seconds' },
  JOB_QUEUE_DEPTH: { name: 'tracegram.job.queue.depth', unit: '', promName: 'tracegram_job_queue_depth' },
  JOB_QUEUE_OLDEST_AGE: {
    name: 'tracegram.job.queue.oldest_age',
    unit: 's',
    promName: 'tracegram_job_queue_oldest_age_seconds',
  },
  PROVIDER_DURATION: {
    name: 'tracegram.provider.duration',
    unit: 's',
    promName: 'tracegram_provider_duration_seconds',
  },
  REFUNDS: { name: 'tracegram.refunds', unit: '', promName: 'tracegram_refunds_total' },
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
  OPERATION: 'operation',
  RESULT: 'result',
  KIND: 'kind',
  PACKAGE: 'package',
  MODEL: 'model',
  STATE: 'state',
} as const;

/** Which labels each metric carries; the stack's cross-checks read this instead of a hand-kept list. */
export const METRIC_LABELS: Record<keyof typeof METRIC, readonly string[]> = {
  UPDATES: [LABEL.UPDATE_TYPE, LABEL.HANDLER, LABEL.OUTCOME, LABEL.REASON_CODE],
  UPDATE_DURATION: [LABEL.UPDATE_TYPE, LABEL.HANDLER, LABEL.OUTCOME],
  SILENT_UPDATES: [LABEL.UPDATE_TYPE, LABEL.HANDLER],
  BOTAPI_CALLS: [LABEL.METHOD, LABEL.ERROR_CODE],
  BOTAPI_DURATION: [LABEL.METHOD, LABEL.ERROR_CODE],
  UPDATE_AGE: [LABEL.UPDATE_TYPE],
  UPDATE_QUEUE_WAIT: [LABEL.UPDATE_TYPE],
  SCREEN_VIEWS: [LABEL.SCREEN_ID],
  INSTANCE_ROLE: [LABEL.ROLE],
  LOG_LINES_DROPPED: [],
  LEDGER_OPERATIONS: [LABEL.OPERATION, LABEL.RESULT],
  LEDGER_CREDITS: [LABEL.KIND],
  PAYMENT_STARS: [LABEL.PACKAGE],
  JOBS: [LABEL.MODEL, LABEL.OUTCOME, LABEL.REASON_CODE],
  JOB_DURATION: [LABEL.MODEL, LABEL.OUTCOME],
  JOB_QUEUE_DEPTH: [LABEL.STATE],
  JOB_QUEUE_OLDEST_AGE: [],
  PROVIDER_DURATION: [LABEL.OPERATION, LABEL.OUTCOME],
  REFUNDS: [LABEL.REASON_CODE],
};

/** Log event names: one vocabulary that follows the user's journey. Every log line has an `event`. */
export const EVENT = {
  ...PLUGIN_EVENT,
  COMMAND_START: 'COMMAND_START',
  COMMAND_HELP: 'COMMAND_HELP',
  COMMAND_PAYSUPPORT: 'COMMAND_PAYSUPPORT',
  COMMAND_PROMO: 'COMMAND_PROMO',
  COMMAND_REFUND: 'COMMAND_REFUND',
  COMMAND_NEWPROMO: 'COMMAND_NEWPROMO',
  /** Telegram asks whether to take a payment (`stage received` of a `pre_checkout_query`). */
  PRE_CHECKOUT_RECEIVED: 'PRE_CHECKOUT_RECEIVED',
  /** A `successful_payment` service message arrived (`stage received`). */
  PAYMENT_RECEIVED: 'PAYMENT_RECEIVED',
  /** The payment's credits were written to the ledger (first delivery of its charge id). */
  PAYMENT_CREDITED: 'PAYMENT_CREDITED',
  /** Crediting a payment failed (the store): the user paid and holds nothing yet; alert TracegramPaymentNotCredited. */
  PAYMENT_CREDIT_FAILED: 'PAYMENT_CREDIT_FAILED',
  PAYMENT_CREDIT_RETRY: 'PAYMENT_CREDIT_RETRY',
  /** Stars went back to a user by an admin's refund, and the credits with them. */
  STARS_REFUNDED: 'STARS_REFUNDED',
  /** /start: the user's first visit or not, and what became of a referral code. */
  USER_STARTED: 'USER_STARTED',
  PROMO_REDEEMED: 'PROMO_REDEEMED',
  /** `/debug` received (from an admin or not: the outcome says which). */
  COMMAND_DEBUG: 'COMMAND_DEBUG',
  MESSAGE_RECEIVED: 'MESSAGE_RECEIVED',
  CALLBACK_RECEIVED: 'CALLBACK_RECEIVED',
  FAILURE_REPLY_FAILED: 'FAILURE_REPLY_FAILED',
  HTTP_ERROR: 'HTTP_ERROR',
  STORE_CONNECTION_LOST: 'STORE_CONNECTION_LOST',
  WEBHOOK_REJECTED: 'WEBHOOK_REJECTED',
  WEBHOOK_TIMEOUT: 'WEBHOOK_TIMEOUT',
  MALFORMED_UPDATE: 'MALFORMED_UPDATE',
  /** A trace-page link that is unsigned, forged or expired (403). */
  DEBUG_LINK_REJECTED: 'DEBUG_LINK_REJECTED',
  /** An admin API request without the right ADMIN_API_TOKEN (401). */
  ADMIN_API_REJECTED: 'ADMIN_API_REJECTED',
  TELEMETRY_ERROR: 'TELEMETRY_ERROR',
  APP_STARTING: 'APP_STARTING',
  APP_READY: 'APP_READY',
  APP_START_FAILED: 'APP_START_FAILED',
  POLLING_STOPPED: 'POLLING_STOPPED',
  APP_STOPPING: 'APP_STOPPING',
  SHUTDOWN_STEP_FAILED: 'SHUTDOWN_STEP_FAILED',
  SHUTDOWN_FORCED: 'SHUTDOWN_FORCED',
  COMMANDS_NOT_SET: 'COMMANDS_NOT_SET',
  APP_CRASHED: 'APP_CRASHED',
  APP_STOPPED: 'APP_STOPPED',
  CONFIG_INVALID: 'CONFIG_INVALID',
  MIGRATION_APPLIED: 'MIGRATION_APPLIED',
  PSEUDONYM_KEY_CREATED: 'PSEUDONYM_KEY_CREATED',
  JOB_ENQUEUED: 'JOB_ENQUEUED',
  JOB_STARTED: 'JOB_STARTED',
  /** A worker found its job already taken or settled (pg-boss redelivery after a crash): nothing done. */
  JOB_SKIPPED: 'JOB_SKIPPED',
  PROVIDER_SUBMITTED: 'PROVIDER_SUBMITTED',
  PROVIDER_CALLBACK: 'PROVIDER_CALLBACK',
  PROVIDER_CALLBACK_REJECTED: 'PROVIDER_CALLBACK_REJECTED',
  /** A callback for a task already settled (a duplicate, or one after the deadline): nothing done. */
  PROVIDER_CALLBACK_DUPLICATE: 'PROVIDER_CALLBACK_DUPLICATE',
  RESULT_DELIVERED: 'RESULT_DELIVERED',
  JOB_FAILED: 'JOB_FAILED',
  JOB_UNDELIVERABLE: 'JOB_UNDELIVERABLE',
  JOB_EXPIRED: 'JOB_EXPIRED',
  REFUNDED: 'REFUNDED',
  JOB_NOTIFY_FAILED: 'JOB_NOTIFY_FAILED',
  QUEUE_ERROR: 'QUEUE_ERROR',
  LOCAL_PROVIDER_FAULT: 'LOCAL_PROVIDER_FAULT',
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
