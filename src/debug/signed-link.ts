import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Links to the trace page are signed by the bot that hands them out (/debug) with a key of their own,
 * and expire: whoever holds a link sees one trace for a while, and nobody can mint one for another cid.
 * The signature covers the path and the expiry, so neither can be changed.
 */

export const TRACE_PAGE_PREFIX = '/debug/traces/';
/** How long a link from /debug stays valid. */
export const DEFAULT_LINK_TTL_S = 24 * 60 * 60;

export type LinkCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'unsigned' | 'forged' | 'expired' };

export interface LinkSigner {
  /** Path and query of a signed link to one trace's page (prefix it with the bot's public base URL). */
  tracePath(cid: string, nowMs?: number): string;
  verify(cid: string, exp: string | undefined, sig: string | undefined, nowMs?: number): LinkCheck;
}

export function createLinkSigner(key: string, ttlSeconds = DEFAULT_LINK_TTL_S): LinkSigner {
  const mac = (cid: string, exp: string) =>
    createHmac('sha256', key).update(`${TRACE_PAGE_PREFIX}${cid}\n${exp}`).digest();
  return {
    tracePath(cid, nowMs = Date.now()) {
      const exp = String(Math.floor(nowMs / 1000) + ttlSeconds);
      return `${TRACE_PAGE_PREFIX}${cid}?exp=${exp}&sig=${mac(cid, exp).toString('base64url')}`;
    },
    verify(cid, exp, sig, nowMs = Date.now()) {
      if (!exp || !sig) return { ok: false, reason: 'unsigned' };
      const given = Buffer.from(sig, 'base64url');
      const expected = mac(cid, exp);
      if (!/^\d{1,12}$/.test(exp) || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return { ok: false, reason: 'forged' };
      }
      return Number(exp) * 1000 < nowMs ? { ok: false, reason: 'expired' } : { ok: true };
    },
  };
}
