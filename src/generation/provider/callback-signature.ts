import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Provider callbacks are signed the way the common webhook senders do it (Stripe, Svix): an HMAC-SHA256,
 * keyed with PROVIDER_CALLBACK_SECRET, over `<unix seconds>.<raw body>`, so neither the body nor the time
 * can be changed, and an old captured callback is refused once it is outside the replay window.
 */
export const SIGNATURE_HEADER = 'x-provider-signature';
export const TIMESTAMP_HEADER = 'x-provider-timestamp';
export const SIGNATURE_PREFIX = 'v1=';
/** How far a callback's timestamp may be from our clock, either way. */
export const REPLAY_WINDOW_S = 300;

export function signCallback(secret: string, timestampS: number, body: string): string {
  return `${SIGNATURE_PREFIX}${createHmac('sha256', secret).update(`${timestampS}.${body}`).digest('hex')}`;
}

export type SignatureCheck =
  | { ok: true }
  | {
      ok: false;
      reason: 'signature missing' | 'timestamp missing' | 'timestamp outside window' | 'signature wrong';
    };

export function verifyCallback(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  nowMs: number,
): SignatureCheck {
  if (!headers.signature) return { ok: false, reason: 'signature missing' };
  if (!headers.timestamp || !/^\d{1,12}$/.test(headers.timestamp))
    return { ok: false, reason: 'timestamp missing' };
  const timestampS = Number(headers.timestamp);
  if (Math.abs(nowMs / 1000 - timestampS) > REPLAY_WINDOW_S)
    return { ok: false, reason: 'timestamp outside window' };
  const expected = Buffer.from(signCallback(secret, timestampS, body));
  const given = Buffer.from(headers.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature wrong' };
  }
  return { ok: true };
}
