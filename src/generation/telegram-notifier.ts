import { type Api, InputFile } from 'grammy';
import type { Message } from 'grammy/types';
import { findModel } from '../catalogue/models.js';
import type { JobNotifier } from './generation.js';
import type { DeliveredFile, Job } from './job-store.js';
import { failureText, resultMessage, type Translate } from './result-message.js';

/**
 * Tells the user about their job through the Bot API, outside any update: progress as a chat action,
 * the result as a photo (image models) or a document with its Repeat button, and failures with the refund
 * and the support code.
 */
export function telegramNotifier(api: Api, t: Translate): JobNotifier {
  return {
    async progress(job) {
      // "sending a photo…" in the chat header: the user sees work going on without a message to clean up.
      await api.sendChatAction(job.chatId, isImage(job) ? 'upload_photo' : 'upload_document');
    },

    async deliver(job, result) {
      const { caption, keyboard } = resultMessage(job, t);
      const file = new InputFile(result.bytes, result.contentType === 'image/png' ? 'result.png' : 'result');
      if (isImage(job) && result.contentType.startsWith('image/')) {
        return deliveredFile(await api.sendPhoto(job.chatId, file, { caption, reply_markup: keyboard }));
      }
      return deliveredFile(await api.sendDocument(job.chatId, file, { caption, reply_markup: keyboard }));
    },

    async failed(job, reasonCode) {
      await api.sendMessage(job.chatId, failureText(job, reasonCode, t), { parse_mode: 'HTML' });
    },
  };
}

/** Telegram's own copy of what it received: the largest photo size, or the document. */
export function deliveredFile(message: Message): DeliveredFile | undefined {
  const photo = message.photo?.at(-1);
  if (photo) return { fileId: photo.file_id, kind: 'photo' };
  if (message.document) return { fileId: message.document.file_id, kind: 'document' };
  return undefined;
}

function isImage(job: Job): boolean {
  return findModel(job.model)?.category === 'image';
}
