import type { CallbackQuery, Message, MessageEntity, PreCheckoutQuery, Update, User } from 'grammy/types';
import { type ButtonSelector, findCallbackButton } from './markup.js';
import type { World } from './world.js';

export interface UserProfile {
  id: number;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
  is_premium?: true;
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
    const entities = commandEntities(text);
    const message = this.world.addMessage(this.id, { from: this.user, text, entities });
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

  /** After this the bot's sends to this chat fail with 403, as when a user blocks a bot. */
  blockBot(): void {
    this.world.setBlocked(this.id, true);
  }

  unblockBot(): void {
    this.world.setBlocked(this.id, false);
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

function commandEntities(text: string): MessageEntity[] | undefined {
  const entities: MessageEntity[] = [...text.matchAll(COMMAND_PATTERN)].map((match) => ({
    type: 'bot_command',
    offset: match.index,
    length: match[0].length,
  }));
  return entities.length > 0 ? entities : undefined;
}
