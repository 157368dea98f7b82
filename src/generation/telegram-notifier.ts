import { type Api, InputFile } from 'grammy';
import { findModel } from '../catalogue/models.js';
import type { ReasonCode } from '../telemetry/reason-codes.js';
import type { JobNotifier } from './generation.js';
import type { Job } from './job-store.js';

export type Translate = (locale: string, key: string, variables?: Record<string, string | number>) => string;

/** The i18n key of what a user is told when their job ends with this reason code. */
const FAILURE_TEXT: Partial<Record<ReasonCode, string>> = {
  PROVIDER_ERROR: 'job-failed-provider',
  DOWNSTREAM_TIMEOUT: 'job-failed-timeout',
};
const DEFAULT_FAILURE_TEXT = 'job-failed-internal';

/**
 * Tells the user about their job through the Bot API, outside any update: progress as a chat action,
 * the result as a photo (image models) or a document, and failures with the refund and the support code
 * (the job's cid, `<code>`-formatted so one tap copies it).
 */
export function telegramNotifier(api: Api, t: Translate): JobNotifier {
  const title = (job: Job) => findModel(job.model)?.title ?? job.model;
  return {
    async progress(job) {
      // "sending a photo…" in the chat header: the user sees work going on without a message to clean up.
      await api.sendChatAction(job.chatId, isImage(job) ? 'upload_photo' : 'upload_document');
    },

    async deliver(job, result) {
      const caption = t(job.locale, 'job-result-caption', { title: title(job) });
      const file = new InputFile(result.bytes, result.contentType === 'image/png' ? 'result.png' : 'result');
      if (isImage(job) && result.contentType.startsWith('image/')) {
        await api.sendPhoto(job.chatId, file, { caption });
      } else {
        await api.sendDocument(job.chatId, file, { caption });
      }
    },

    async failed(job, reasonCode) {
      const key = FAILURE_TEXT[reasonCode] ?? DEFAULT_FAILURE_TEXT;
      const text = t(job.locale, key, {
        title: title(job),
        price: job.price,
        cid: `<code>${job.cid}</code>`,
      });
      await api.sendMessage(job.chatId, text, { parse_mode: 'HTML' });
    },
  };
}

function isImage(job: Job): boolean {
  return findModel(job.model)?.category === 'image';
}
