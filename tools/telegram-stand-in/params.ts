import { BotApiError, badRequest, DESCRIPTION, missingParameter } from './errors.js';

/** A file sent as a multipart part (grammY's `InputFile`); the stand-in keeps its shape, not its bytes. */
export interface UploadedFile {
  upload: { filename: string; size: number; mimeType: string };
}

export type RawParams = Record<string, unknown>;

/**
 * Object-valued parameters. Telegram accepts each of them as a JSON-serialized string in any
 * encoding (form, query, even inside a JSON body), so they are parsed once, up front.
 */
const JSON_PARAMS = new Set([
  'reply_markup',
  'entities',
  'caption_entities',
  'link_preview_options',
  'reply_parameters',
  'prices',
  'suggested_tip_amounts',
  'commands',
  'scope',
  'allowed_updates',
]);

export function normalizeParams(raw: RawParams): RawParams {
  const params: RawParams = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue;
    params[name] = JSON_PARAMS.has(name) && typeof value === 'string' ? parseJsonParam(name, value) : value;
  }
  return params;
}

function parseJsonParam(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    const what = name === 'reply_markup' ? 'reply keyboard markup' : name;
    throw badRequest(`can't parse ${what} JSON object`);
  }
}

/** Typed, Telegram-lenient reads of one call's parameters: numbers and booleans may arrive as strings. */
export class Params {
  constructor(readonly values: RawParams) {}

  has(name: string): boolean {
    return this.values[name] !== undefined && this.values[name] !== '';
  }

  string(name: string): string | undefined {
    const value = this.values[name];
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return undefined;
  }

  requiredString(name: string, whenMissing: BotApiError = missingParameter(name)): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw whenMissing;
    return value;
  }

  int(name: string): number | undefined {
    const value = this.values[name];
    if (value === undefined || value === '') return undefined;
    const number = typeof value === 'number' ? value : Number(value);
    if (!Number.isSafeInteger(number)) throw badRequest(`invalid ${name} specified`);
    return number;
  }

  bool(name: string): boolean | undefined {
    const value = this.values[name];
    if (value === undefined || value === '') return undefined;
    return value === true || value === 'true' || value === 'True' || value === 1 || value === '1';
  }

  object<T>(name: string): T | undefined {
    const value = this.values[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null) throw badRequest(`can't parse ${name} JSON object`);
    return value as T;
  }

  /** Private chats only: a username (`@name`) or anything non-numeric can never resolve. */
  chatId(): number {
    const value = this.values.chat_id;
    if (value === undefined || value === '') throw new BotApiError(400, DESCRIPTION.chatIdEmpty);
    const id = typeof value === 'number' ? value : Number(value);
    if (!Number.isSafeInteger(id)) throw new BotApiError(400, DESCRIPTION.chatNotFound);
    return id;
  }

  messageId(): number {
    const id = this.int('message_id');
    if (id === undefined) throw new BotApiError(400, DESCRIPTION.messageIdMissing);
    return id;
  }

  upload(name: string): UploadedFile | undefined {
    const value = this.values[name];
    return typeof value === 'object' && value !== null && 'upload' in value
      ? (value as UploadedFile)
      : undefined;
  }
}
