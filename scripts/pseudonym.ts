/**
 * `npm run pseudonym -- <telegram user id> [...]`: prints the pseudonym under which that user's updates
 * appear in telemetry (`tracegram.user.pseudonym`, and `user_pseudonym` on each update's closing log line).
 * It uses the pseudonym key (PSEUDONYM_KEY, or `<DATA_DIR>/pseudonym.key` that the bot created), never the
 * bot token. Admins in the chat can ask the bot instead: `/debug user <telegram id>`.
 */
import { ConfigError, loadPseudonymSettings } from '../src/config.js';
import { createPseudonymizer } from '../src/telemetry/pseudonym.js';
import { PSEUDONYM_KEY_FILE, readPseudonymKey } from '../src/telemetry/pseudonym-key.js';

const ids = process.argv.slice(2);
try {
  if (ids.length === 0 || !ids.every((id) => /^\d+$/.test(id))) {
    throw new ConfigError('usage: npm run pseudonym -- <telegram user id> [...]');
  }
  const settings = loadPseudonymSettings();
  const resolved = await readPseudonymKey(settings);
  if (!resolved) {
    throw new ConfigError(
      `no pseudonym key: PSEUDONYM_KEY is unset and ${settings.dataDir}/${PSEUDONYM_KEY_FILE} does not exist ` +
        '(the bot creates it on its first start; run this where DATA_DIR is the bot’s, or set PSEUDONYM_KEY)',
    );
  }
  const pseudonymize = createPseudonymizer(resolved.key);
  for (const id of ids) console.log(`${id}\t${pseudonymize(Number(id))}`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exitCode = 2;
}
