import { createHmac } from 'node:crypto';

/**
 * Telemetry never carries a raw Telegram user id. A keyed HMAC gives a stable pseudonym per user, so an
 * admin who knows the id can find the user's traces (/debug computes the same value) while telemetry
 * readers cannot reverse it. The key is derived from the bot token, which never leaves the process.
 */
export function createPseudonymizer(secret: string): (userId: number) => string {
  const key = createHmac('sha256', 'tracegram-pseudonym').update(secret).digest();
  return (userId) => `u_${createHmac('sha256', key).update(String(userId)).digest('base64url').slice(0, 16)}`;
}
