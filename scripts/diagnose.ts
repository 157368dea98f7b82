/**
 * `npm run diagnose -- <support code or cid>`: what happened to one update, from telemetry alone.
 * Reads Tempo + Loki (TEMPO_URL, LOKI_URL) when set, else the running bot's admin API (ADMIN_API_TOKEN,
 * ADMIN_API_URL). Exit 0: the update succeeded; 1: it failed; 2: not found, or the source is unreachable.
 */
import { diagnoseCommand } from '../src/debug/commands.js';
import { englishReplies } from '../src/debug/reply-text.js';
import { runTool } from '../src/debug/tool-source.js';
import { traceLinks } from '../src/debug/trace-links.js';

await runTool((config, source) =>
  diagnoseCommand(process.argv[2], source, {
    replyText: englishReplies(),
    links: (cid) => traceLinks(cid, { grafanaUrl: config.grafanaUrl }).map((l) => `${l.label}: ${l.href}`),
  }),
);
