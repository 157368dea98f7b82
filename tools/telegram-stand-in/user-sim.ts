import type {
  CallbackQuery,
  ChatMemberBanned,
  ChatMemberMember,
  Message,
  MessageEntity,
  PreCheckoutQuery,
  Update,
  User,
} from 'grammy/types';
import { type ButtonSelector, findCallbackButton } from './markup.js';
import type { ChatMessage, World } from './world.js';

export interface UserProfile {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: true;
}

/** The longest text one message can carry: longer texts are split by the client before they are sent. */
export const MAX_MESSAGE_TEXT = 4096;
/** The longest caption of a photo or document. */
export const MAX_CAPTION = 1024;

/** Kinds of non-text message a user can send; each arrives as a message with that field set. */
export type MediaKind = 'sticker' | 'photo' | 'voice' | 'document';

/** A group the bot is in, as users write there. */
export interface GroupProfile {
  /** Negative, as Telegram's group ids are. */
  id: number;
  title: string;
}

/** Commands as Telegram clients mark them: a slash word at the start or after whitespace, optionally @bot. */
const COMMAND_PATTERN = /(?<=^|\s)\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?=$|\s)/g;

/**
 * A Telegram user in a private chat with the bot (chat id = user id). Each action queues the update the
 * bot would receive and returns it; the bot picks it up by getUpdates or webhook like any other.
 * Methods are async so callers need not change if delivery ever becomes awaited.
 */
export class SimulatedUser {
  readonly user: User;

  constructor(
    private readonly world: World,
    profile: UserProfile,
  ) {
    this.user = { ...profile, is_bot: false };
    world.registerUser(this.user);
  }

  get id(): number {
    return this.user.id;
  }

  async sendText(text: string): Promise<Update> {
    const message = this.world.addMessage(this.id, { from: this.user, ...textContent(text) });
    return this.world.queueUpdate({ message });
  }

  /** A sticker, photo, voice message or document, as a client uploads it (with a caption where one fits). */
  async sendMedia(kind: MediaKind, caption?: string): Promise<Update> {
    if (caption !== undefined && caption.length > MAX_CAPTION) {
      throw new Error(`stand-in: a caption holds at most ${MAX_CAPTION} characters, not ${caption.length}`);
    }
    const message = this.world.addMessage(this.id, {
      from: this.user,
      ...this.media(kind),
      ...(caption !== undefined && kind !== 'sticker' ? { caption } : {}),
    });
    return this.world.queueUpdate({ message });
  }

  /** Edits a text this user sent: Telegram delivers the new version as an `edited_message` update. */
  async editText(message: Message | number, text: string): Promise<Update> {
    const current = this.visibleMessage(message);
    if (current.from?.id !== this.id) {
      throw new Error(`stand-in: message ${current.message_id} was not sent by user ${this.id}`);
    }
    const edit_date = Math.max(current.date, Math.floor(Date.now() / 1000));
    const edited = this.world.replaceMessage({ ...current, ...textContent(text), edit_date } as ChatMessage);
    return this.world.queueUpdate({ edited_message: { ...edited, edit_date } });
  }

  /** A text in a group the bot is in (the group is created on first use). */
  async sendTextInGroup(group: GroupProfile, text: string): Promise<Update> {
    this.world.ensureGroup(group.id, group.title);
    const message = this.world.addMessage(group.id, { from: this.user, ...textContent(text) });
    return this.world.queueUpdate({ message });
  }

  /** `'/start'`, `'start'` or `'/start payload'`: a message carrying a bot_command entity. */
  async sendCommand(command: string): Promise<Update> {
    return this.sendText(command.startsWith('/') ? command : `/${command}`);
  }

  /** Taps the inline button with that text (or `{ data }`) on the message as it is stored now. */
  async press(message: Message | number, button: ButtonSelector): Promise<Update> {
    const current = this.visibleMessage(message);
    const { callback_data } = findCallbackButton(current.reply_markup, button);
    return this.queueCallbackQuery(current, callback_data);
  }

  /** A callback query with any data, as a modified client could send; the message must still exist. */
  async pressData(message: Message | number, data: string): Promise<Update> {
    return this.queueCallbackQuery(this.visibleMessage(message), data);
  }

  /** Taps Pay on an invoice: Telegram asks the bot to confirm with a pre_checkout_query. */
  async pay(invoice: Message | number): Promise<Update> {
    const current = this.visibleMessage(invoice);
    const terms = this.world.invoiceTerms(current);
    if (!current.invoice || !terms)
      throw new Error(`stand-in: message ${current.message_id} is not an invoice`);
    const query: PreCheckoutQuery = { id: this.world.newQueryId(), from: this.user, ...terms };
    this.world.addPreCheckoutQuery(query);
    return this.world.queueUpdate({ pre_checkout_query: query });
  }

  /**
   * Blocks the bot: Telegram tells the bot with a `my_chat_member` update (member → kicked), and the bot's
   * sends to this chat fail with 403 from then on.
   */
  async blockBot(): Promise<Update> {
    this.world.setBlocked(this.id, true);
    return this.queueMemberChange('member', 'kicked');
  }

  /** Unblocks (restarts) the bot: `my_chat_member` kicked → member, and sends work again. */
  async unblockBot(): Promise<Update> {
    this.world.setBlocked(this.id, false);
    return this.queueMemberChange('kicked', 'member');
  }

  private queueMemberChange(from: 'member' | 'kicked', to: 'member' | 'kicked'): Update {
    const status = (state: 'member' | 'kicked'): ChatMemberMember | ChatMemberBanned =>
      state === 'member'
        ? { status: 'member', user: this.world.botAsSender }
        : { status: 'kicked', user: this.world.botAsSender, until_date: 0 };
    return this.world.queueUpdate({
      my_chat_member: {
        chat: this.world.chatOf(this.id),
        from: this.user,
        date: Math.floor(Date.now() / 1000),
        old_chat_member: status(from),
        new_chat_member: status(to),
      },
    });
  }

  private media(kind: MediaKind): Partial<Message> {
    switch (kind) {
      case 'sticker':
        return {
          sticker: {
            ...this.world.newFileId('CAACAgIAAxk'),
            type: 'regular',
            width: 512,
            height: 512,
            is_animated: false,
            is_video: false,
            emoji: '👍',
          },
        };
      case 'photo':
        return { photo: this.world.newPhoto() };
      case 'voice':
        return { voice: { ...this.world.newFileId('AwACAgIAAxk'), duration: 3, mime_type: 'audio/ogg' } };
      case 'document':
        return {
          document: {
            ...this.world.newFileId('BQACAgIAAxk'),
            file_name: 'notes.pdf',
            mime_type: 'application/pdf',
          },
        };
    }
  }

  private visibleMessage(message: Message | number): Message {
    const messageId = typeof message === 'number' ? message : message.message_id;
    if (typeof message !== 'number' && message.chat.id !== this.id) {
      throw new Error(
        `stand-in: message ${messageId} is in chat ${message.chat.id}, not in ${this.id}'s chat`,
      );
    }
    const current = this.world.message(this.id, messageId);
    if (!current)
      throw new Error(`stand-in: message ${messageId} does not exist (any more) in chat ${this.id}`);
    return current;
  }

  private queueCallbackQuery(message: Message, data: string): Update {
    const query: CallbackQuery = {
      id: this.world.newQueryId(),
      from: this.user,
      message,
      // Telegram's chat_instance is an opaque id, stable per chat.
      chat_instance: String(BigInt(message.chat.id) * 2_654_435_761n),
      data,
    };
    this.world.addCallbackQuery(query);
    return this.world.queueUpdate({ callback_query: query });
  }
}

/** A text and its command entities; longer than one message can be, it is refused as a client would. */
function textContent(text: string): { text: string; entities?: MessageEntity[] } {
  if (text.length > MAX_MESSAGE_TEXT) {
    throw new Error(
      `stand-in: one message holds at most ${MAX_MESSAGE_TEXT} characters, not ${text.length} (clients split longer texts)`,
    );
  }
  const entities = commandEntities(text);
  return entities ? { text, entities } : { text };
}

function commandEntities(text: string): MessageEntity[] | undefined {
  const entities: MessageEntity[] = [...text.matchAll(COMMAND_PATTERN)].map((match) => ({
    type: 'bot_command',
    offset: match.index,
    length: match[0].length,
  }));
  return entities.length > 0 ? entities : undefined;
}
