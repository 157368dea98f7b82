/**
 * Telegram's own wording for the failures the stand-in reproduces. Bots (and our tests) match on these
 * descriptions, so they are kept verbatim in one table rather than spelled out at each throw site.
 */
export const DESCRIPTION = {
  unauthorized: 'Unauthorized',
  notFound: 'Not Found',
  methodNotFound: 'Not Found: method not found',
  chatIdEmpty: 'Bad Request: chat_id is empty',
  chatNotFound: 'Bad Request: chat not found',
  textEmpty: 'Bad Request: message text is empty',
  textTooLong: 'Bad Request: message is too long',
  messageIdMissing: 'Bad Request: message identifier is not specified',
  messageToEditNotFound: 'Bad Request: message to edit not found',
  messageToDeleteNotFound: 'Bad Request: message to delete not found',
  messageToReplyNotFound: 'Bad Request: message to be replied not found',
  messageCantBeEdited: "Bad Request: message can't be edited",
  messageCantBeDeleted: "Bad Request: message can't be deleted for everyone",
  noTextToEdit: 'Bad Request: there is no text in the message to edit',
  notModified:
    'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  queryTooOld: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
  noPhoto: 'Bad Request: there is no photo in the request',
  noDocument: 'Bad Request: there is no document in the request',
  wrongFileId: 'Bad Request: wrong file identifier/HTTP URL specified',
  buttonDataInvalid: 'Bad Request: BUTTON_DATA_INVALID',
  textButtonsUnallowed:
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
  inlineKeyboardNotArray: 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array',
  buttonTextNotString:
    'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String',
  botCommandInvalid: 'Bad Request: BOT_COMMAND_INVALID',
  botCommandDescriptionInvalid: 'Bad Request: BOT_COMMAND_DESCRIPTION_INVALID',
  blocked: 'Forbidden: bot was blocked by the user',
  // Telegram Stars (https://core.telegram.org/bots/payments-stars). Telegram documents CHARGE_ALREADY_REFUNDED;
  // its answer for a charge id it never issued is undocumented, and this one is the stand-in's.
  chargeAlreadyRefunded: 'Bad Request: CHARGE_ALREADY_REFUNDED',
  chargeNotFound: 'Bad Request: CHARGE_NOT_FOUND',
  starsProviderToken: 'Bad Request: provider_token must be empty for payments in Telegram Stars',
  starsOnePrice: 'Bad Request: payments in Telegram Stars must have exactly one price',
  webhookActive:
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
  otherGetUpdates:
    'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  terminatedBySetWebhook: 'Conflict: terminated by setWebhook request',
} as const;

/** The failure body of every Bot API method: https://core.telegram.org/bots/api#making-requests */
export interface BotApiFailure {
  ok: false;
  error_code: number;
  description: string;
  parameters?: { retry_after?: number };
}

/** A Bot API call rejected the way Telegram rejects it; the HTTP status equals `errorCode`. */
export class BotApiError extends Error {
  override readonly name = 'BotApiError';
  readonly errorCode: number;
  readonly description: string;
  readonly retryAfter: number | undefined;

  constructor(errorCode: number, description: string, retryAfter?: number) {
    super(`${errorCode}: ${description}`);
    this.errorCode = errorCode;
    this.description = description;
    this.retryAfter = retryAfter;
  }

  toBody(): BotApiFailure {
    const body: BotApiFailure = { ok: false, error_code: this.errorCode, description: this.description };
    if (this.retryAfter !== undefined) body.parameters = { retry_after: this.retryAfter };
    return body;
  }
}

export function badRequest(reason: string): BotApiError {
  return new BotApiError(400, reason.startsWith('Bad Request: ') ? reason : `Bad Request: ${reason}`);
}

/** Telegram's generic answer for an absent required parameter without a dedicated message. */
export function missingParameter(name: string): BotApiError {
  return badRequest(`parameter "${name}" is required`);
}
