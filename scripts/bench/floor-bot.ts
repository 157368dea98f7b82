import Fastify from 'fastify';
import { Bot, InlineKeyboard, webhookCallback } from 'grammy';
import pg from 'pg';

/**
 * The floor the benchmark compares Tracegram with: a plain grammY webhook bot on fastify that makes the
 * round trips a Tracegram button press makes, and nothing else: no telemetry, no log line, no screens,
 * no i18n. `FLOOR_STORE=none` is the peer (one Bot API call per update, no store); `pg` adds the
 * update's claim with the session read and the session write, on PostgreSQL through `pg`. Benchmark-only:
 * never part of the app.
 */
const store =
  process.env.FLOOR_STORE === 'pg' ? new pg.Pool({ connectionString: process.env.DATABASE_URL }) : undefined;
if (store) {
  await store.query(`CREATE TABLE IF NOT EXISTS floor_updates (update_id bigint PRIMARY KEY)`);
  await store.query(`CREATE TABLE IF NOT EXISTS floor_sessions (key text PRIMARY KEY, value jsonb NOT NULL)`);
}

const bot = new Bot(process.env.BOT_TOKEN ?? '', {
  botInfo: { id: 1, is_bot: true, first_name: 'Floor', username: 'floor_bot' } as Bot['botInfo'],
  client: {
    apiRoot: process.env.TELEGRAM_API_ROOT ?? 'https://api.telegram.org',
    canUseWebhookReply: (method) => method === 'answerCallbackQuery',
  },
});

const keyboard = (screen: number) =>
  new InlineKeyboard()
    .text('One', `1.f${screen}.a`)
    .text('Two', `1.f${screen}.b`)
    .row()
    .text('Three', `1.f${screen}.c`)
    .text('Back', `1.f${screen}.k`);

bot.use(async (ctx) => {
  const chatId = ctx.chat?.id ?? 0;
  let screen = 0;
  if (store) {
    const claimed = await store.query<{ session: { screen: number } | null }>(
      `INSERT INTO floor_updates (update_id) VALUES ($1) ON CONFLICT DO NOTHING
       RETURNING (SELECT value FROM floor_sessions WHERE key = $2) AS session`,
      [ctx.update.update_id, String(chatId)],
    );
    if (claimed.rowCount === 0) return;
    screen = claimed.rows[0]?.session?.screen ?? 0;
  }
  screen = (screen + 1) % 7;
  // Tracegram's order: draw, save the session, then answer the press in the webhook's answer.
  if (ctx.callbackQuery) await ctx.editMessageText(`Screen ${screen}`, { reply_markup: keyboard(screen) });
  else await ctx.reply(`Screen ${screen}`, { reply_markup: keyboard(screen) });
  if (store) {
    await store.query(
      `INSERT INTO floor_sessions (key, value) VALUES ($1, $2::jsonb)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [String(chatId), JSON.stringify({ screen })],
    );
  }
  if (ctx.callbackQuery) await ctx.answerCallbackQuery();
});

const server = Fastify();
server.post(
  '/telegram/webhook',
  webhookCallback(bot, 'fastify', { secretToken: process.env.WEBHOOK_SECRET }),
);
server.get('/readyz', async () => ({ status: 'ready' }));
await server.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });

process.once('SIGTERM', async () => {
  await server.close();
  await store?.end();
  process.exit(0);
});
