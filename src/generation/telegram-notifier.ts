import { type Api, GrammyError, InputFile } from 'grammy';
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
 * Tells the user about their job through the Bot API, outside any update: progress on the status line,
 * the result as a photo (image models) or a document, and failures with the refund and the support code
 * (the job's cid, `<code>`-formatted so one tap copies it).
 */
export function telegramNotifier(api: Api, t: Translate): JobNotifier {
  const title = (job: Job) => findModel(job.model)?.title ?? job.model;
  const editStatus = async (job: Job, text: string) => {
    if (job.statusMessageId === undefined) return;
    await api.editMessageText(job.chatId, job.statusMessageId, text).catch(ignoreUnmodified);
  };
  return {
    async progress(job) {
      await Promise.all([
        api.sendChatAction(
          job.chatId,
          findModel(job.model)?.category === 'image' ? 'upload_photo' : 'upload_document',
        ),
        editStatus(job, t(job.locale, 'job-generating', { title: title(job) })),
      ]);
    },

    async deliver(job, result) {
      const caption = t(job.locale, 'job-result-caption', { title: title(job) });
      const file = new InputFile(result.bytes, result.contentType === 'image/png' ? 'result.png' : 'result');
      if (findModel(job.model)?.category === 'image' && result.contentType.startsWith('image/')) {
        await api.sendPhoto(job.chatId, file, { caption });
      } else {
        await api.sendDocument(job.chatId, file, { caption });
      }
      // The result is what matters; a status line that stays at "generating" is cosmetic.
      await editStatus(job, t(job.locale, 'job-done', { title: title(job) })).catch(() => undefined);
    },

    async failed(job, reasonCode) {
      const key = FAILURE_TEXT[reasonCode] ?? DEFAULT_FAILURE_TEXT;
      const text = t(job.locale, key, {
        title: title(job),
        price: job.price,
        cid: `<code>${job.cid}</code>`,
      });
      await editStatus(job, t(job.locale, 'job-failed-status', { title: title(job) })).catch(() => undefined);
      await api.sendMessage(job.chatId, text, { parse_mode: 'HTML' });
    },
  };
}

function ignoreUnmodified(error: unknown): void {
  if (error instanceof GrammyError && error.description.includes('message is not modified')) return;
  throw error;
}
