/**
 * `BOT_TOKEN=… npm run pseudonym -- <telegram user id> [...]`: prints the pseudonym under which that user's
 * updates appear in telemetry (`tracegram.user.pseudonym`), for finding a user's traces in Tempo.
 * It needs the bot's own token: the pseudonym is keyed with it, so nobody else can compute it.
 */
import { ConfigError, loadConfig } from '../src/config.js';
import { createPseudonymizer } from '../src/telemetry/pseudonym.js';

const ids = process.argv.slice(2);
try {
  if (ids.length === 0 || !ids.every((id) => /^\d+$/.test(id))) {
    throw new ConfigError('usage: npm run pseudonym -- <telegram user id> [...]');
  }
  const pseudonymize = createPseudonymizer(loadConfig().botToken);
  for (const id of ids) console.log(`${id}\t${pseudonymize(Number(id))}`);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exitCode = 2;
}
