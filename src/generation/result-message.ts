import type { InlineKeyboard } from 'grammy';
import { findModel } from '../catalogue/models.js';
import type { ReasonCode } from '../telemetry/reason-codes.js';
import { buildKeyboard } from '../ui/keyboard.js';
import { failureTextKey } from './failure-text.js';
import { jobRef } from './job-ref.js';
import type { Job } from './job-store.js';

/** Translates outside an update: job messages speak the locale stored on the job. */
export type Translate = (locale: string, key: string, variables?: Record<string, string | number>) => string;

export function modelTitle(job: Job): string {
  return findModel(job.model)?.title ?? job.model;
}

/** The result as it first arrives and as History re-sends it: caption and Repeat button. */
export function resultMessage(job: Job, t: Translate): { caption: string; keyboard: InlineKeyboard } {
  return {
    caption: t(job.locale, 'job-result-caption', { title: modelTitle(job) }),
    keyboard: buildKeyboard('RESULT', [
      [{ button: 'REPEAT', label: t(job.locale, 'button-repeat'), args: [jobRef(job.id)] }],
    ]),
  };
}

/**
 * Why a job failed, that its price went back, and its support code (the job's cid, `<code>`-formatted so
 * one tap copies it): HTML, for parse_mode HTML.
 */
export function failureText(job: Job, reasonCode: ReasonCode | undefined, t: Translate): string {
  return t(job.locale, failureTextKey(reasonCode), {
    title: modelTitle(job),
    price: job.price,
    cid: `<code>${job.cid}</code>`,
  });
}
