/**
 * The names the grammY telemetry plugin emits itself: the root and stage spans, Bot API spans, and the
 * log events of an update's life. src/telemetry/conventions.ts merges them into the app's contract,
 * which docs/telemetry.md documents.
 */

/** Span names. The root span of an update is `UPDATE_PREFIX + update type`, e.g. `update callback_query`. */
export const PLUGIN_SPAN = {
  UPDATE_PREFIX: 'update ',
  RECEIVED: 'stage received',
  ROUTED: 'stage routed',
  ACCEPTED: 'stage accepted',
  REJECTED: 'stage rejected',
  RENDER: 'stage render',
  /** Bot API calls: `botapi sendMessage`. */
  BOTAPI_PREFIX: 'botapi ',
} as const;

export const PLUGIN_ATTR = {
  UPDATE_TYPE: 'tracegram.update.type',
  /** Seconds from the user sending the update (else from its receipt) to the start of its handling. */
  UPDATE_AGE: 'tracegram.update.age_s',
  /** Seconds between the update's receipt (getUpdates answer, webhook request) and the start of its handling. */
  UPDATE_QUEUE_WAIT: 'tracegram.update.queue_wait_s',
  USER_PSEUDONYM: 'tracegram.user.pseudonym',
  CHAT_TYPE: 'tracegram.chat.type',
  INSTANCE_ROLE: 'tracegram.instance.role',
  SCREEN_ID: 'tracegram.screen_id',
  HANDLER: 'tracegram.handler',
  OUTCOME: 'tracegram.outcome',
  REASON_CODE: 'tracegram.reason_code',
  /** A short, fixed explanation of a rejection (never user input). */
  REASON_DETAIL: 'tracegram.reason_detail',
  SILENT: 'tracegram.silent',
  /** How many accept/reject decisions were recorded, set only when more than one (a bug). */
  DECISIONS: 'tracegram.decisions',
  BOTAPI_METHOD: 'tracegram.botapi.method',
  BOTAPI_OK: 'tracegram.botapi.ok',
  BOTAPI_ERROR_CODE: 'tracegram.botapi.error_code',
  BOTAPI_RETRY_AFTER: 'tracegram.botapi.retry_after',
  /** The call rode on the webhook's answer (grammY's webhook reply): Telegram reports no result for it. */
  BOTAPI_WEBHOOK_REPLY: 'tracegram.botapi.webhook_reply',
} as const;

/** Incubating semantic-convention keys, copied here as the semconv package advises; stable ones are imported. */
export const SEMCONV = {
  MESSAGING_SYSTEM: 'messaging.system',
  MESSAGING_OPERATION_TYPE: 'messaging.operation.type',
  MESSAGING_OPERATION_NAME: 'messaging.operation.name',
  URL_TEMPLATE: 'url.template',
  MESSAGING_MESSAGE_ID: 'messaging.message.id',
} as const;

export const MESSAGING_SYSTEM_TELEGRAM = 'telegram';
/** `messaging.operation.name` of an update's root span: handling one delivered update. */
export const MESSAGING_OPERATION_PROCESS = 'process';

/**
 * `url.template` of every Bot API call: the path with its token and method as placeholders, so spans can
 * say which endpoint without ever holding the token (https://core.telegram.org/bots/api#making-requests).
 */
export const BOTAPI_URL_TEMPLATE = '/bot{token}/{method}';

/** `error_code` label value for a Bot API call that succeeded, and for one that never got an HTTP answer. */
export const BOTAPI_OK_CODE = '0';
export const BOTAPI_NETWORK_ERROR_CODE = 'network';

export const PLUGIN_EVENT = {
  UPDATE_RECEIVED: 'UPDATE_RECEIVED',
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
  SILENT_UPDATE: 'SILENT_UPDATE',
  DUPLICATE_OUTCOME: 'DUPLICATE_OUTCOME',
  STORE_ERROR: 'STORE_ERROR',
} as const;
