import type {
  BotCommand,
  CallbackQuery,
  Chat,
  Message,
  PhotoSize,
  PreCheckoutQuery,
  Update,
  User,
  UserFromGetMe,
} from 'grammy/types';
import { BotApiError, DESCRIPTION } from './errors.js';

/** Messages here are in private chats and groups (never channels), so they fit non-channel updates. */
export type ChatMessage = Message & Update.NonChannel;

/** An update before it gets its global `update_id`. */
export type UpdatePayload = Omit<Update, 'update_id'>;

export interface WebhookConfig {
  url: string;
  secretToken: string | undefined;
  maxConnections: number;
  allowedUpdates: string[] | undefined;
  lastErrorDate?: number;
  lastErrorMessage?: string;
}

/** What the bot said in answerCallbackQuery, as the user's client would show it. */
export interface CallbackAnswer {
  callback_query_id: string;
  text?: string;
  show_alert?: boolean;
  url?: string;
  cache_time?: number;
}

/** What a paid invoice needs that the Message's `invoice` field does not show (the bot's payload). */
export interface InvoiceTerms {
  currency: string;
  total_amount: number;
  invoice_payload: string;
}

/** A Stars payment Telegram made for the bot: refundStarPayment may return it once. */
export interface StarPayment {
  userId: number;
  telegramPaymentChargeId: string;
  totalAmount: number;
  refunded: boolean;
}

interface ChatState {
  chat: Chat.PrivateChat | Chat.GroupChat;
  /** The user of a private chat; groups have members, not one user. */
  user: User | undefined;
  messages: Map<number, ChatMessage>;
  nextMessageId: number;
  blockedBot: boolean;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** Optional fields are absent on Telegram's objects, never present-but-undefined. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

/**
 * The Telegram side of the conversation: private chats with their messages (user's and bot's share one
 * message_id sequence, as on Telegram), the update queue, and the queries awaiting the bot's answer.
 * It knows nothing of HTTP; messages leave it as copies so callers cannot edit history behind its back.
 */
export class World {
  readonly bot: UserFromGetMe;
  /** The bot as it appears in `message.from`: getMe's capability flags are not part of it. */
  readonly botAsSender: User;
  readonly commands = new Map<string, BotCommand[]>();
  webhook: WebhookConfig | undefined;
  private readonly chats = new Map<number, ChatState>();
  private readonly callbackQueries = new Map<string, { query: CallbackQuery; answer?: CallbackAnswer }>();
  private readonly preCheckoutQueries = new Map<string, { query: PreCheckoutQuery; answered: boolean }>();
  private readonly invoices = new Map<string, InvoiceTerms>();
  private readonly starPayments = new Map<string, StarPayment>();
  private readonly photos = new Map<string, PhotoSize[]>();
  private readonly updateListeners = new Set<() => void>();
  private pending: Update[] = [];
  /** Every update ever queued, so a test can find one and deliver it again. */
  private readonly queued: Update[] = [];
  private nextUpdateId: number;
  private nextQueryId = 1;
  private nextFileId = 1;

  constructor(bot: UserFromGetMe, firstUpdateId = 1) {
    this.bot = bot;
    this.nextUpdateId = firstUpdateId;
    this.botAsSender = { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username };
  }

  registerUser(user: User): void {
    const chat: Chat.PrivateChat = { id: user.id, type: 'private', first_name: user.first_name };
    if (user.last_name !== undefined) chat.last_name = user.last_name;
    if (user.username !== undefined) chat.username = user.username;
    const existing = this.chats.get(user.id);
    if (existing) Object.assign(existing, { chat, user });
    else this.chats.set(user.id, { chat, user, messages: new Map(), nextMessageId: 1, blockedBot: false });
  }

  /** A group the bot is a member of (created on first use), for messages users write there. */
  ensureGroup(groupId: number, title: string): void {
    if (groupId >= 0) throw new Error(`stand-in: group ids are negative on Telegram, not ${groupId}`);
    if (this.chats.has(groupId)) return;
    const chat: Chat.GroupChat = { id: groupId, type: 'group', title };
    this.chats.set(groupId, {
      chat,
      user: undefined,
      messages: new Map(),
      nextMessageId: 1,
      blockedBot: false,
    });
  }

  /** A file id of the kind Telegram issues for an upload (`prefix` tells the kind, as real ids do). */
  newFileId(prefix: string): { file_id: string; file_unique_id: string } {
    const n = this.nextFileId++;
    return { file_id: `${prefix}-stand-in-${n}`, file_unique_id: `AgAD${n}` };
  }

  chatOf(chatId: number): Chat.PrivateChat | Chat.GroupChat {
    return structuredClone(this.state(chatId).chat);
  }

  userOf(chatId: number): User | undefined {
    return this.chats.get(chatId)?.user;
  }

  setBlocked(chatId: number, blocked: boolean): void {
    this.state(chatId).blockedBot = blocked;
  }

  /** The chat the bot wants to write to: unknown → 400, user blocked the bot → 403, as on Telegram. */
  writableChat(chatId: number): void {
    const state = this.chats.get(chatId);
    if (!state) throw new BotApiError(400, DESCRIPTION.chatNotFound);
    if (state.blockedBot) throw new BotApiError(403, DESCRIPTION.blocked);
  }

  hasChat(chatId: number): boolean {
    return this.chats.has(chatId);
  }

  /** Stores a new message in the chat, sent by the bot unless `from` says otherwise. */
  addMessage(chatId: number, content: Omit<Message, 'message_id' | 'date' | 'chat'>): ChatMessage {
    const state = this.state(chatId);
    const message = withoutUndefined({
      message_id: state.nextMessageId++,
      from: this.botAsSender,
      date: unixNow(),
      chat: state.chat,
      ...content,
    }) as ChatMessage;
    state.messages.set(message.message_id, structuredClone(message));
    return structuredClone(message);
  }

  message(chatId: number, messageId: number): ChatMessage | undefined {
    const message = this.chats.get(chatId)?.messages.get(messageId);
    return message && structuredClone(message);
  }

  replaceMessage(message: ChatMessage): ChatMessage {
    const stored = withoutUndefined(message);
    this.state(message.chat.id).messages.set(message.message_id, structuredClone(stored));
    return stored;
  }

  deleteMessage(chatId: number, messageId: number): boolean {
    return this.chats.get(chatId)?.messages.delete(messageId) ?? false;
  }

  botMessages(chatId: number): ChatMessage[] {
    const messages = [...(this.chats.get(chatId)?.messages.values() ?? [])];
    return messages.filter((message) => message.from?.id === this.bot.id).map((m) => structuredClone(m));
  }

  queueUpdate(payload: UpdatePayload): Update {
    const update = structuredClone({ update_id: this.nextUpdateId++, ...payload }) as Update;
    this.pending.push(update);
    this.queued.push(structuredClone(update));
    for (const listener of this.updateListeners) listener();
    return structuredClone(update);
  }

  queuedUpdates(): Update[] {
    return this.queued.map((update) => structuredClone(update));
  }

  /** Subscribes to newly queued updates; returns the unsubscribe function. */
  onUpdate(listener: () => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  /**
   * getUpdates' offset semantics: updates below a positive offset are confirmed and forgotten;
   * a negative offset keeps only the last -offset updates.
   */
  confirmUpdates(offset: number): void {
    if (offset > 0) this.pending = this.pending.filter((update) => update.update_id >= offset);
    else if (offset < 0) this.pending = this.pending.slice(offset);
  }

  pendingUpdates(limit = Number.POSITIVE_INFINITY): Update[] {
    return this.pending.slice(0, limit).map((update) => structuredClone(update));
  }

  dropPendingUpdates(): void {
    this.pending = [];
  }

  newQueryId(): string {
    // Telegram's query ids are opaque 64-bit numbers; a counter keeps test output deterministic.
    return String(4_200_000_000_000 + this.nextQueryId++);
  }

  addCallbackQuery(query: CallbackQuery): void {
    this.callbackQueries.set(query.id, { query });
  }

  /** Each callback query takes one answer; a second one gets the same error as an unknown id. */
  answerCallbackQuery(answer: CallbackAnswer): void {
    const entry = this.callbackQueries.get(answer.callback_query_id);
    if (!entry || entry.answer) throw new BotApiError(400, DESCRIPTION.queryTooOld);
    entry.answer = answer;
  }

  callbackAnswer(callbackQueryId: string): CallbackAnswer | undefined {
    const answer = this.callbackQueries.get(callbackQueryId)?.answer;
    return answer && structuredClone(answer);
  }

  addPreCheckoutQuery(query: PreCheckoutQuery): void {
    this.preCheckoutQueries.set(query.id, { query, answered: false });
  }

  answerPreCheckoutQuery(id: string): PreCheckoutQuery {
    const entry = this.preCheckoutQueries.get(id);
    if (!entry || entry.answered) throw new BotApiError(400, DESCRIPTION.queryTooOld);
    entry.answered = true;
    return structuredClone(entry.query);
  }

  rememberInvoice(message: Message, terms: InvoiceTerms): void {
    this.invoices.set(`${message.chat.id}:${message.message_id}`, terms);
  }

  recordStarPayment(payment: Omit<StarPayment, 'refunded'>): void {
    this.starPayments.set(payment.telegramPaymentChargeId, { ...payment, refunded: false });
  }

  /** Refunds a Stars payment of that user, once; Telegram's errors otherwise. */
  refundStarPayment(userId: number, chargeId: string): void {
    const payment = this.starPayments.get(chargeId);
    if (!payment || payment.userId !== userId) throw new BotApiError(400, DESCRIPTION.chargeNotFound);
    if (payment.refunded) throw new BotApiError(400, DESCRIPTION.chargeAlreadyRefunded);
    payment.refunded = true;
  }

  starPayment(chargeId: string): StarPayment | undefined {
    const payment = this.starPayments.get(chargeId);
    return payment && structuredClone(payment);
  }

  invoiceTerms(message: Message): InvoiceTerms | undefined {
    return this.invoices.get(`${message.chat.id}:${message.message_id}`);
  }

  /** A newly "uploaded" photo in Telegram's usual thumbnail + full-size pair; each size's file_id resolves to the set. */
  newPhoto(): PhotoSize[] {
    const n = this.nextFileId++;
    const sizes: PhotoSize[] = [
      {
        file_id: `AgACAgIAAxk-stand-in-${n}-s`,
        file_unique_id: `AQAD${n}s`,
        width: 90,
        height: 90,
        file_size: 1_024,
      },
      {
        file_id: `AgACAgIAAxk-stand-in-${n}-x`,
        file_unique_id: `AQAD${n}x`,
        width: 800,
        height: 800,
        file_size: 65_536,
      },
    ];
    for (const size of sizes) this.photos.set(size.file_id, sizes);
    return structuredClone(sizes);
  }

  /** File ids are per bot on Telegram: only ids this stand-in issued resolve. */
  photoByFileId(fileId: string): PhotoSize[] | undefined {
    const sizes = this.photos.get(fileId);
    return sizes && structuredClone(sizes);
  }

  setMessageDate(chatId: number, messageId: number, unixSeconds: number): void {
    const message = this.state(chatId).messages.get(messageId);
    if (!message) throw new Error(`stand-in: no message ${messageId} in chat ${chatId}`);
    message.date = unixSeconds;
  }

  private state(chatId: number): ChatState {
    const state = this.chats.get(chatId);
    if (!state)
      throw new Error(`stand-in: no chat ${chatId}; create it with standIn.user({ id: ${chatId}, ... })`);
    return state;
  }
}
