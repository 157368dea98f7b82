import { isDeepStrictEqual } from 'node:util';
import type { Document, InlineKeyboardMarkup, Message, MessageEntity, PhotoSize } from 'grammy/types';
import { BotApiError, badRequest, DESCRIPTION } from './errors.js';
import { inlineKeyboardOf, sameKeyboard } from './markup.js';
import type { MethodTable } from './methods.js';
import type { Params } from './params.js';
import { mediaCaption, messageText } from './text.js';
import { type ChatMessage, unixNow, type World } from './world.js';

/** "A message can only be deleted if it was sent less than 48 hours ago": https://core.telegram.org/bots/api#deletemessage */
const DELETE_WINDOW_SECONDS = 48 * 60 * 60;

/** The actions https://core.telegram.org/bots/api#sendchataction accepts. */
const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

/** sendMessage, sendPhoto, sendDocument, sendChatAction and the edits and deletes of what the bot sent. */
export function messageMethods(world: World): MethodTable {
  /** Locates the message an edit targets; inline messages do not exist here (no inline mode). */
  const messageToEdit = (p: Params): ChatMessage => {
    if (!p.has('chat_id') && p.has('inline_message_id')) throw badRequest('MESSAGE_ID_INVALID');
    const chatId = p.chatId();
    const messageId = p.messageId();
    world.writableChat(chatId);
    const message = world.message(chatId, messageId);
    if (!message) throw new BotApiError(400, DESCRIPTION.messageToEditNotFound);
    if (message.from?.id !== world.bot.id) throw new BotApiError(400, DESCRIPTION.messageCantBeEdited);
    return message;
  };

  return {
    sendMessage: (p) => {
      const chatId = p.chatId();
      const { text, entities } = messageText(
        p.string('text'),
        p.string('parse_mode'),
        p.object<MessageEntity[]>('entities'),
      );
      const keyboard = inlineKeyboardOf(p.values.reply_markup);
      world.writableChat(chatId);
      return world.addMessage(chatId, {
        text,
        entities,
        reply_to_message: replyTarget(world, chatId, p),
        reply_markup: keyboard,
      });
    },

    sendPhoto: (p) => {
      const chatId = p.chatId();
      const photo = photoOf(world, p);
      const caption = mediaCaption(p.string('caption'), p.string('parse_mode'), p.object('caption_entities'));
      const keyboard = inlineKeyboardOf(p.values.reply_markup);
      world.writableChat(chatId);
      return world.addMessage(chatId, {
        photo,
        ...caption,
        reply_to_message: replyTarget(world, chatId, p),
        reply_markup: keyboard,
      });
    },

    sendDocument: (p) => {
      const chatId = p.chatId();
      const document = documentOf(world, p);
      const caption = mediaCaption(p.string('caption'), p.string('parse_mode'), p.object('caption_entities'));
      const keyboard = inlineKeyboardOf(p.values.reply_markup);
      world.writableChat(chatId);
      return world.addMessage(chatId, {
        document,
        ...caption,
        reply_to_message: replyTarget(world, chatId, p),
        reply_markup: keyboard,
      });
    },

    sendChatAction: (p) => {
      const chatId = p.chatId();
      const action = p.requiredString('action');
      if (!CHAT_ACTIONS.has(action)) throw badRequest('wrong parameter action in request');
      world.writableChat(chatId);
      return true;
    },

    editMessageText: (p) => {
      const { text, entities } = messageText(
        p.string('text'),
        p.string('parse_mode'),
        p.object<MessageEntity[]>('entities'),
      );
      const keyboard = inlineKeyboardOf(p.values.reply_markup);
      const message = messageToEdit(p);
      if (message.text === undefined) throw new BotApiError(400, DESCRIPTION.noTextToEdit);
      const unchanged =
        message.text === text &&
        isDeepStrictEqual(message.entities, entities) &&
        sameKeyboard(message.reply_markup, keyboard);
      if (unchanged) throw new BotApiError(400, DESCRIPTION.notModified);
      // Leaving reply_markup out of an edit removes the keyboard, as on Telegram.
      return world.replaceMessage(edited(message, { text, entities, reply_markup: keyboard }));
    },

    editMessageReplyMarkup: (p) => {
      const keyboard = inlineKeyboardOf(p.values.reply_markup);
      const message = messageToEdit(p);
      if (sameKeyboard(message.reply_markup, keyboard)) throw new BotApiError(400, DESCRIPTION.notModified);
      return world.replaceMessage(edited(message, { reply_markup: keyboard }));
    },

    deleteMessage: (p) => {
      const chatId = p.chatId();
      const messageId = p.messageId();
      if (!world.hasChat(chatId)) throw new BotApiError(400, DESCRIPTION.chatNotFound);
      const message = world.message(chatId, messageId);
      if (!message) throw new BotApiError(400, DESCRIPTION.messageToDeleteNotFound);
      if (unixNow() - message.date >= DELETE_WINDOW_SECONDS)
        throw new BotApiError(400, DESCRIPTION.messageCantBeDeleted);
      world.deleteMessage(chatId, messageId);
      return true;
    },
  };
}

/** The new version of an edited message; the world drops the fields an edit set to undefined. */
function edited(
  message: ChatMessage,
  changes: {
    text?: string;
    entities?: MessageEntity[] | undefined;
    reply_markup: InlineKeyboardMarkup | undefined;
  },
): ChatMessage {
  return { ...message, ...changes, edit_date: unixNow() };
}

type ReplyTo = Message & { reply_to_message: undefined };

/** reply_parameters (or the older reply_to_message_id) as the `reply_to_message` Telegram includes. */
function replyTarget(world: World, chatId: number, p: Params): ReplyTo | undefined {
  const reply = p.object<{ message_id?: number; allow_sending_without_reply?: boolean }>('reply_parameters');
  const messageId = reply?.message_id ?? p.int('reply_to_message_id');
  if (messageId === undefined) return undefined;
  const target = world.message(chatId, messageId);
  const allowMissing = reply?.allow_sending_without_reply ?? p.bool('allow_sending_without_reply') ?? false;
  if (!target && !allowMissing) throw new BotApiError(400, DESCRIPTION.messageToReplyNotFound);
  // Telegram does not nest replies: the replied-to message comes without its own reply_to_message.
  return target && { ...target, reply_to_message: undefined };
}

/**
 * The photo sizes for a sendPhoto: an upload or an HTTP URL becomes a new file (the URL is not fetched,
 * so the stand-in never reaches out); a file_id must be one this stand-in issued.
 */
function photoOf(world: World, p: Params): PhotoSize[] {
  if (p.upload('photo')) return world.newPhoto();
  const photo = p.string('photo');
  if (photo === undefined || photo === '' || photo.startsWith('attach://')) {
    throw new BotApiError(400, DESCRIPTION.noPhoto);
  }
  if (/^https?:\/\//i.test(photo)) return world.newPhoto();
  const known = world.photoByFileId(photo);
  if (!known) throw new BotApiError(400, DESCRIPTION.wrongFileId);
  return known;
}

/** A document as Telegram describes an uploaded file; a URL or file_id is accepted without being fetched. */
function documentOf(world: World, p: Params): Document {
  const upload = p.upload('document');
  if (upload) {
    return {
      ...world.newFile(),
      file_name: upload.upload.filename,
      mime_type: upload.upload.mimeType,
      file_size: upload.upload.size,
    };
  }
  const document = p.string('document');
  if (document === undefined || document === '' || document.startsWith('attach://')) {
    throw new BotApiError(400, DESCRIPTION.noDocument);
  }
  return world.newFile();
}
