import { parseArgs } from 'node:util';
import { CONTROL_PREFIX } from './control-routes.js';
import { startBotApiStandIn } from './stand-in.js';

/**
 * `npm run stand-in [-- --port 8081 --host 127.0.0.1 --token 123:ABC]`: a Bot API stand-in to point a
 * locally running bot at (BOT_API_ROOT / client.apiRoot), driven by hand with curl.
 * As a separate entry point it reads its own variables, STAND_IN_PORT / STAND_IN_HOST / STAND_IN_TOKEN, never
 * the bot's PORT or BOT_TOKEN: a shell set up for the bot must not move the stand-in onto the bot's port or
 * print a real token.
 */
const DEFAULT_PORT = 8081;
const DEFAULT_TOKEN = '123456:stand-in-token';

const { values } = parseArgs({
  options: { port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' } },
});
const port = Number(values.port ?? process.env.STAND_IN_PORT ?? DEFAULT_PORT);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  throw new Error(
    `stand-in: --port / STAND_IN_PORT must be a TCP port, got "${values.port ?? process.env.STAND_IN_PORT}"`,
  );
}
const token = values.token ?? process.env.STAND_IN_TOKEN ?? DEFAULT_TOKEN;
const standIn = await startBotApiStandIn({
  token,
  port,
  host: values.host ?? process.env.STAND_IN_HOST ?? '127.0.0.1',
});

const root = standIn.apiRoot;
const control = `${root}${CONTROL_PREFIX}`;
const json = `-H 'content-type: application/json'`;
console.log(`Telegram Bot API stand-in listening.
  apiRoot: ${root}      (grammY: new Bot(token, { client: { apiRoot: '${root}' } }))
  token:   ${token}

Act as user 1001 (private chat id = user id):
  curl -s ${json} -d '{"command":"/start","first_name":"Alice"}' ${control}/users/1001/command
  curl -s ${json} -d '{"text":"hello"}' ${control}/users/1001/text
  curl -s ${json} -d '{"message_id":2,"text":"🖼 Images"}' ${control}/users/1001/press      # by button text
  curl -s ${json} -d '{"message_id":2,"data":"1.mm.c.image"}' ${control}/users/1001/press # by callback_data
  curl -s ${json} -d '{"message_id":2,"raw_data":"forged"}' ${control}/users/1001/press  # any data
  curl -s ${json} -d '{"kind":"sticker"}' ${control}/users/1001/media    # sticker, photo, voice, document
  curl -s ${json} -d '{"message_id":1,"text":"edited"}' ${control}/users/1001/edit     # edited_message
  curl -s ${json} -d '{"group_id":-5001,"text":"/start"}' ${control}/users/1001/group-text
  curl -s ${json} -d '{"blocked":true}' ${control}/users/1001/block      # my_chat_member: kicked
Inspect:
  curl -s ${control}/chats/1001/messages
  curl -s '${control}/calls?method=sendMessage&limit=20'
Call the Bot API yourself:
  curl -s ${root}/bot${token}/getMe
`);

// Closing the server lets the process end by itself; no process.exit, per house style.
const shutdown = () => void standIn.stop();
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
