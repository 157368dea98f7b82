/**
 * Support codes: the cid (the update's trace id) as a user quotes it. The first 8 hex characters are
 * enough wherever a code is accepted (easy to read aloud, 4 billion values: unique among the traces an
 * admin searches); the full 32-character cid always works.
 */

/** How many leading hex characters of the cid make a short support code. */
export const SHORT_CODE_LENGTH = 8;

const FULL = /^[0-9a-f]{32}$/;
const SHORT = /^[0-9a-f]{8,31}$/;

export type SupportCode =
  | { readonly kind: 'cid'; readonly cid: string }
  | { readonly kind: 'prefix'; readonly prefix: string };

/**
 * Reads what a user or admin typed: spaces, dashes and case are forgiven (a code read aloud or copied
 * with a stray character still works). Undefined when it cannot be a code.
 */
export function parseSupportCode(input: string): SupportCode | undefined {
  const text = input.trim().toLowerCase().replace(/[\s-]/g, '');
  if (FULL.test(text)) return /^0+$/.test(text) ? undefined : { kind: 'cid', cid: text };
  if (SHORT.test(text)) return { kind: 'prefix', prefix: text };
  return undefined;
}

/** The short form shown next to the full cid. */
export function shortCode(cid: string): string {
  return cid.slice(0, SHORT_CODE_LENGTH);
}

export type Resolution =
  | { readonly status: 'found'; readonly cid: string }
  | { readonly status: 'not-found' }
  | { readonly status: 'ambiguous'; readonly cids: readonly string[] };

/** Finds the one cid a code names among known cids (a full cid is taken as it is). */
export function resolveSupportCode(code: SupportCode, known: Iterable<string>): Resolution {
  if (code.kind === 'cid') return { status: 'found', cid: code.cid };
  const matches = new Set<string>();
  for (const cid of known) if (cid.startsWith(code.prefix)) matches.add(cid);
  const [first, ...rest] = matches;
  if (first === undefined) return { status: 'not-found' };
  return rest.length === 0
    ? { status: 'found', cid: first }
    : { status: 'ambiguous', cids: [first, ...rest] };
}
