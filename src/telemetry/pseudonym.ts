import { createHmac, createSecretKey } from 'node:crypto';

/** Enough for every user active at once; past it the memo starts over (a miss costs one HMAC). */
const MAX_REMEMBERED_USERS = 50_000;

/**
 * Telemetry never carries a raw Telegram user id. A keyed HMAC gives a stable pseudonym per user, so an
 * admin who knows the id can find the user's traces (/debug computes the same value) while telemetry
 * readers cannot reverse it. The key is derived from the bot token, which never leaves the process.
 */
export function createPseudonymizer(secret: string): (userId: number) => string {
  // One key object and a memo: every update names its user, and the same users come back.
  const key = createSecretKey(createHmac('sha256', 'tracegram-pseudonym').update(secret).digest());
  const known = new Map<number, string>();
  return (userId) => {
    let pseudonym = known.get(userId);
    if (pseudonym === undefined) {
      pseudonym = `u_${createHmac('sha256', key).update(String(userId)).digest('base64url').slice(0, 16)}`;
      if (known.size >= MAX_REMEMBERED_USERS) known.clear();
      known.set(userId, pseudonym);
    }
    return pseudonym;
  };
}
