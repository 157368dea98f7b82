/**
 * The next step for each diagnosis, as docs/runbook.md states it (test/docs.test.ts holds the runbook to
 * every line here). Keyed by reason code, refined by what failed downstream.
 */
export const NEXT_STEP: Readonly<Record<string, string>> = {
  SUCCESS:
    'Nothing failed in this update. If the user still complains, look at their next updates: /debug user <id>.',
  NOOP: 'Expected: there was nothing to do. Tell the user what the reply said.',
  PASSIVE_REJECT:
    'A standby instance answered: check which instance is active; the user can retry in seconds.',
  UNKNOWN_ACTION:
    'Old or forged button: the user sends /start. Many right after a deploy: a layout changed without bumping CALLBACK_DATA_VERSION.',
  STATE_MISMATCH:
    'A button on an old message or a left screen: the user uses the latest message or /start. Nothing is broken.',
  EXPIRED_MESSAGE: 'The menu was too old: the user sends /start.',
  VALIDATION_FAILED:
    'The reply told the user what to fix (reason detail says what); nothing to do on our side.',
  RATE_LIMIT: 'The user sent too fast; they can retry in a minute. Many users at once: check the limits.',
  FORBIDDEN: 'A non-admin tried an admin command and saw the unknown-command reply. Nothing to do.',
  DOWNSTREAM_TIMEOUT:
    'The provider did not answer in time: check its status and latency (Generations dashboard); the charge was refunded.',
  PROVIDER_ERROR: 'The provider refused or failed the job: read the error; the charge was refunded.',
  INSUFFICIENT_FUNDS: 'The balance was too low; the user was offered a top-up. Nothing is broken.',
  DB_ERROR:
    'The store failed: check /readyz (503 while the database is unreachable) and the database itself; the user can retry once it is back.',
  INTERNAL_ERROR:
    'A bug or an unexpected failure: read the exception on the root span, file it with this cid.',
  NONE: 'The handler recorded no outcome (a bug): the SILENT_UPDATE line names the handler; file it with this cid.',
  DUPLICATE_UPDATE:
    'Telegram delivered an update again (a webhook retry or a restart before polling confirmed it); the first delivery was answered. Nothing to do; many of them: look for WEBHOOK_TIMEOUT lines and restarts.',
  BOT_BLOCKED:
    'The result was ready but the user had blocked the bot (403): it was refunded and never retried. Nothing to fix.',
  UNKNOWN_PACKAGE:
    'A top-up naming a package we do not offer (an old invoice or a forged button): nothing was charged; the user opens Balance again.',
  PAYMENT_MISMATCH:
    'Pre-checkout refused an invoice whose terms are not our current offer (reason detail says which): Telegram charged nothing; the user opens Balance again.',
  USER_BLOCKED:
    'An admin blocked this user from paying: Telegram charged nothing. Unblock them if that was a mistake.',
  DUPLICATE_PAYMENT:
    'Telegram delivered a payment already credited: nothing was credited twice. "Charged twice" is one charge shown twice.',
  REFUND_REFUSED:
    'The refund was refused (reason detail: unknown payment, already refunded, or credits already spent): check the charge id in the payments table.',
  PROMO_UNKNOWN: 'No such promo code: the user checks the spelling. Nothing is broken.',
  PROMO_EXPIRED: 'The promo code has expired: extend it with /newpromo if it should still work.',
  PROMO_EXHAUSTED: 'The promo code was used up: raise its uses with /newpromo if it should still work.',
  PROMO_ALREADY_USED: 'Each user can redeem a promo code once. Nothing is broken.',
  PAYMENT_UNMATCHED:
    "Telegram took Stars for an invoice that is not ours (payload or currency): nothing was credited. A person must look: the charge id is on the user's receipt; credit them by hand or /refund <charge id>, and answer them through /paysupport.",
};

/** Refinements by downstream failure, checked before the reason code. */
export const DOWNSTREAM_STEP: Readonly<Record<string, string>> = {
  botapi_403:
    'Telegram answered 403: the user blocked the bot (or left the chat). Nothing to fix; the bot cannot reach them.',
  botapi_429:
    'Telegram answered 429 (flood control): we sent too much too fast; the call may be retried after retry_after. Many of them: check the Bot API calls panel.',
  botapi_400: 'Telegram refused the request (400): a bug in what we sent; file it with this cid.',
  botapi_network:
    'Telegram was unreachable or did not answer in time: check egress to api.telegram.org and the Bot API calls panel.',
  db_ECONNREFUSED:
    'The database refused connections (down or restarting): check /readyz and the database; the user can retry once it is back.',
  db_timeout: 'The database did not answer in time: check its load and connections.',
  ledger_credit:
    'A payment was taken but not credited: Telegram will not deliver it again. The PAYMENT_CREDIT_FAILED line has the charge id: once the store is back, credit the user by hand or /refund <charge id>, and tell them through /paysupport.',
};

export function nextStepFor(input: {
  reasonCode: string;
  outcome: string;
  errorType: string | undefined;
  botApiErrorCode: string | undefined;
  failingStage?: string | undefined;
}): string {
  // A job's undeliverable result: the reason says more than the 403 (the refund).
  if (input.reasonCode === 'BOT_BLOCKED') return NEXT_STEP.BOT_BLOCKED ?? '';
  if (input.reasonCode === 'DB_ERROR' && input.failingStage?.startsWith('ledger credit')) {
    return DOWNSTREAM_STEP.ledger_credit ?? '';
  }
  if (input.botApiErrorCode) {
    const step = DOWNSTREAM_STEP[`botapi_${input.botApiErrorCode}`];
    if (step) return step;
  }
  if (input.reasonCode === 'DB_ERROR' && input.errorType) {
    const step = DOWNSTREAM_STEP[`db_${input.errorType}`];
    if (step) return step;
  }
  return NEXT_STEP[input.reasonCode] ?? NEXT_STEP.INTERNAL_ERROR ?? '';
}
