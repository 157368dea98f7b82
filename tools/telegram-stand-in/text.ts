import type { MessageEntity } from 'grammy/types';
import { BotApiError, badRequest, DESCRIPTION } from './errors.js';

export interface FormattedText {
  text: string;
  entities?: MessageEntity[];
}

/** Limits after entity parsing: https://core.telegram.org/bots/api#sendmessage */
const MAX_TEXT_LENGTH = 4096;
const MAX_CAPTION_LENGTH = 1024;

/** A message's `text` as the user sees it (entities parsed), with Telegram's empty/too-long checks. */
export function messageText(
  text: string | undefined,
  parseMode: string | undefined,
  entities: MessageEntity[] | undefined,
): FormattedText {
  const formatted = format(text ?? '', parseMode, entities);
  if (formatted.text.trim() === '') throw new BotApiError(400, DESCRIPTION.textEmpty);
  if (formatted.text.length > MAX_TEXT_LENGTH) throw new BotApiError(400, DESCRIPTION.textTooLong);
  return formatted;
}

/** A media caption; absent when empty, as Telegram omits it. */
export function mediaCaption(
  caption: string | undefined,
  parseMode: string | undefined,
  entities: MessageEntity[] | undefined,
): { caption?: string; caption_entities?: MessageEntity[] } {
  const formatted = format(caption ?? '', parseMode, entities);
  if (formatted.text.length > MAX_CAPTION_LENGTH) throw badRequest('message caption is too long');
  if (formatted.text === '') return {};
  return formatted.entities
    ? { caption: formatted.text, caption_entities: formatted.entities }
    : { caption: formatted.text };
}

/** HTML is parsed into entities; Markdown modes are kept verbatim (their escaping rules are not modelled). */
function format(
  text: string,
  parseMode: string | undefined,
  entities: MessageEntity[] | undefined,
): FormattedText {
  if (parseMode === undefined || parseMode === '') return entities?.length ? { text, entities } : { text };
  if (parseMode.toLowerCase() === 'html') return parseHtml(text);
  if (parseMode === 'Markdown' || parseMode === 'MarkdownV2') return { text };
  throw badRequest('unsupported parse_mode');
}

const SIMPLE_TAGS: Record<string, MessageEntity['type']> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  code: 'code',
  pre: 'pre',
  'tg-spoiler': 'spoiler',
  blockquote: 'blockquote',
};

const NAMED_CHARACTERS: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** An entity before its extent is known; distributive so each entity kind keeps its own fields. */
type EntityStart = MessageEntity extends infer E
  ? E extends MessageEntity
    ? Omit<E, 'offset' | 'length'>
    : never
  : never;

interface OpenTag {
  name: string;
  offset: number;
  entity: EntityStart | undefined;
}

/** Telegram's HTML subset: https://core.telegram.org/bots/api#html-style (errors use its wording). */
function parseHtml(source: string): FormattedText {
  const fail = (reason: string) => badRequest(`can't parse entities: ${reason}`);
  const byteOffset = (index: number) => Buffer.byteLength(source.slice(0, index));
  const token =
    /<(\/?)([a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*>|&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/gy;
  const open: OpenTag[] = [];
  const entities: MessageEntity[] = [];
  let text = '';
  let index = 0;
  while (index < source.length) {
    token.lastIndex = index;
    const match = token.exec(source);
    if (!match) {
      if (source[index] === '<') throw fail(`Unsupported start tag "" at byte offset ${byteOffset(index)}`);
      text += source[index];
      index += 1;
      continue;
    }
    const [whole, slash, rawName, attributes, character] = match;
    index += whole.length;
    if (character !== undefined) {
      text += decodeCharacter(character) ?? whole;
      continue;
    }
    const name = (rawName ?? '').toLowerCase();
    const at = byteOffset(index - whole.length);
    if (slash) {
      const top = open.pop();
      if (!top) throw fail(`Unexpected end tag at byte offset ${at}`);
      if (name !== '' && name !== top.name) {
        throw fail(`Unmatched end tag at byte offset ${at}, expected "</${top.name}>", found "</${name}>"`);
      }
      if (top.entity && text.length > top.offset) {
        entities.push({
          ...top.entity,
          offset: top.offset,
          length: text.length - top.offset,
        } as MessageEntity);
      }
      continue;
    }
    open.push({
      name,
      offset: text.length,
      entity: entityFor(name, attributes ?? '', () =>
        fail(`Unsupported start tag "${name}" at byte offset ${at}`),
      ),
    });
  }
  const unclosed = open.pop();
  if (unclosed) throw fail(`Can't find end tag corresponding to start tag "${unclosed.name}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return entities.length > 0 ? { text, entities } : { text };
}

function entityFor(name: string, attributes: string, unsupported: () => Error): OpenTag['entity'] {
  const attribute = (key: string) =>
    new RegExp(`${key}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attributes);
  if (name === 'a') {
    const href = attribute('href');
    const raw = href?.[1] ?? href?.[2] ?? href?.[3];
    // Like Telegram, character references in the attribute are decoded (`&amp;` in a query string).
    const url = raw?.replace(
      /&(#x?[0-9a-f]+|[a-z]+);/gi,
      (whole, ref: string) => decodeCharacter(ref) ?? whole,
    );
    return url ? { type: 'text_link', url } : undefined;
  }
  if (name === 'span' && /class\s*=\s*["']?tg-spoiler/i.test(attributes)) return { type: 'spoiler' };
  if (name === 'blockquote' && /\bexpandable\b/i.test(attributes)) return { type: 'expandable_blockquote' };
  const type = SIMPLE_TAGS[name];
  if (!type) throw unsupported();
  return { type } as OpenTag['entity'];
}

/** Numeric references and the four named ones Telegram supports; anything else stays as written. */
function decodeCharacter(reference: string): string | undefined {
  if (!reference.startsWith('#')) return NAMED_CHARACTERS[reference];
  const codePoint = reference.startsWith('#x')
    ? Number.parseInt(reference.slice(2), 16)
    : Number.parseInt(reference.slice(1), 10);
  return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : undefined;
}
