/**
 * `npm run replay -- <telegram user id | u_pseudonym> [--since 1h]`: a user's session rebuilt from
 * telemetry as a timeline. Through the bot's admin API a Telegram id is enough (the bot computes the
 * pseudonym); Tempo knows only pseudonyms: pass `u_…` (from /debug user or `npm run pseudonym`).
 */
import { ConfigError, loadToolConfig } from '../src/config.js';
import { replayCommand } from '../src/debug/commands.js';
import { englishReplies } from '../src/debug/reply-text.js';
import { NO_SOURCE_MESSAGE, toolSource } from '../src/debug/tool-source.js';

try {
  const config = loadToolConfig();
  const source = toolSource(config);
  if (!source) throw new ConfigError(NO_SOURCE_MESSAGE);
  const args = process.argv.slice(2);
  if (config.tempoUrl && args.some((arg) => /^\d+$/.test(arg))) {
    throw new ConfigError(
      'Tempo knows users by pseudonym only: pass u_… (from /debug user <id>, or npm run pseudonym -- <id>)',
    );
  }
  const result = await replayCommand(args, source, { replyText: englishReplies() });
  process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(`${result.stderr}\n`);
  process.exitCode = result.exitCode;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
}
