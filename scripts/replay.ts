/**
 * `npm run replay -- <telegram user id | u_pseudonym> [--since 1h]`: a user's session rebuilt from
 * telemetry as a timeline. Through the bot's admin API a Telegram id is enough (the bot computes the
 * pseudonym); Tempo knows only pseudonyms: pass `u_…` (from /debug user or `npm run pseudonym`).
 */
import { ConfigError } from '../src/config.js';
import { replayCommand } from '../src/debug/commands.js';
import { englishReplies } from '../src/debug/reply-text.js';
import { runTool } from '../src/debug/tool-source.js';

await runTool(async (config, source) => {
  const args = process.argv.slice(2);
  if (config.tempoUrl && args.some((arg) => /^\d+$/.test(arg))) {
    throw new ConfigError(
      'Tempo knows users by pseudonym only: pass u_… (from /debug user <id>, or npm run pseudonym -- <id>)',
    );
  }
  return replayCommand(args, source, { replyText: englishReplies() });
});
