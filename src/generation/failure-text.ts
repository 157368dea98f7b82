import type { ReasonCode } from '../telemetry/reason-codes.js';

/** The i18n key of what a user is told when their job ends with this reason code. */
const FAILURE_TEXT: Partial<Record<ReasonCode, string>> = {
  PROVIDER_ERROR: 'job-failed-provider',
  DOWNSTREAM_TIMEOUT: 'job-failed-timeout',
  BOT_BLOCKED: 'job-failed-undelivered',
};

/** One place for the notifier, History and diagnose, so what diagnose says the user read is what they read. */
export function failureTextKey(reasonCode: string | undefined): string {
  return FAILURE_TEXT[reasonCode as ReasonCode] ?? 'job-failed-internal';
}
