import { createHmac, createSecretKey } from 'node:crypto';

/** Enough for every user active at once; past it the memo starts over (a miss costs one HMAC). */
const MAX_REMEMBERED_USERS = 50_000;

/**
 * Telemetry never carries a raw Telegram user id. A keyed HMAC gives a stable pseudonym per user, so an
 * admin who knows the id can find the user's traces (`/debug user <id>` and `npm run pseudonym` compute the
 * same value) while telemetry readers cannot reverse it. The key is PSEUDONYM_KEY (or the one the bot
 * created in DATA_DIR: pseudonym-key.ts), never the bot token: whoever resolves pseudonyms must not hold it.
 */
export function createPseudonymizer(key: string): (userId: number) => string {
  // One key object and a memo: every update names its user, and the same users come back.
  const secret = createSecretKey(createHmac('sha256', 'tracegram-pseudonym').update(key).digest());
  const known = new Map<number, string>();
  return (userId) => {
    let pseudonym = known.get(userId);
    if (pseudonym === undefined) {
      pseudonym = `u_${createHmac('sha256', secret).update(String(userId)).digest('base64url').slice(0, 16)}`;
      if (known.size >= MAX_REMEMBERED_USERS) known.clear();
      known.set(userId, pseudonym);
    }
    return pseudonym;
  };
}
