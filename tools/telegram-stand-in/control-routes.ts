import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { CallLog } from './calls.js';
import { BotApiError } from './errors.js';
import { MAX_CAPTION, MAX_MESSAGE_TEXT, type MediaKind, SimulatedUser } from './user-sim.js';
import type { World } from './world.js';

/** Where the control API lives under the apiRoot; the bot's own paths all start with `/bot`. */
export const CONTROL_PREFIX = '/_stand-in';

interface UserRoute {
  Params: { userId: number };
  Body: { first_name?: string; language_code?: string };
}
interface TextRoute extends UserRoute {
  Body: UserRoute['Body'] & { text: string };
}
interface CommandRoute extends UserRoute {
  Body: UserRoute['Body'] & { command: string };
}
interface MediaRoute extends UserRoute {
  Body: UserRoute['Body'] & { kind: MediaKind; caption?: string };
}
interface EditRoute extends UserRoute {
  Body: UserRoute['Body'] & { message_id: number; text: string };
}
interface GroupTextRoute extends UserRoute {
  Body: UserRoute['Body'] & { group_id: number; title?: string; text: string };
}
interface BlockRoute extends UserRoute {
  Body: UserRoute['Body'] & { blocked: boolean };
}
interface PressRoute extends UserRoute {
  Body: UserRoute['Body'] & { message_id: number; text?: string; data?: string; raw_data?: string };
}

const userParams = {
  type: 'object',
  properties: { userId: { type: 'integer' } },
  required: ['userId'],
} as const;

const profileFields = {
  first_name: { type: 'string', minLength: 1 },
  language_code: { type: 'string' },
} as const;

/** What one message can carry; a client splits anything longer before sending. */
const messageText = { type: 'string', minLength: 1, maxLength: MAX_MESSAGE_TEXT } as const;

function bodyWith(properties: Record<string, unknown>, required: string[]) {
  return { type: 'object', properties: { ...profileFields, ...properties }, required } as const;
}

/**
 * The act-as-a-user API over HTTP, for driving a running stand-in with curl (see cli.ts for examples).
 * Answers use Telegram's envelope so the same tooling reads both; user mistakes (no such button) are 400s.
 */
export function controlRoutes(world: World, log: CallLog): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    /** A user known to the stand-in keeps their profile; a new one gets a placeholder name. */
    const userFor = (id: number, body: UserRoute['Body'] | undefined) => {
      const known = world.userOf(id);
      const language = body?.language_code ?? known?.language_code;
      return new SimulatedUser(world, {
        id,
        first_name: body?.first_name ?? known?.first_name ?? `User ${id}`,
        ...(language !== undefined && { language_code: language }),
      });
    };

    app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
      if (error instanceof BotApiError) return reply.code(error.errorCode).send(error.toBody());
      const status = error.statusCode ?? 400;
      return reply.code(status).send({ ok: false, error_code: status, description: error.message });
    });

    app.post<TextRoute>(
      '/users/:userId/text',
      {
        schema: { params: userParams, body: bodyWith({ text: messageText }, ['text']) },
      },
      async (request) => ({
        ok: true,
        result: await userFor(request.params.userId, request.body).sendText(request.body.text),
      }),
    );

    app.post<CommandRoute>(
      '/users/:userId/command',
      {
        schema: {
          params: userParams,
          body: bodyWith({ command: { type: 'string', minLength: 1 } }, ['command']),
        },
      },
      async (request) => ({
        ok: true,
        result: await userFor(request.params.userId, request.body).sendCommand(request.body.command),
      }),
    );

    app.post<MediaRoute>(
      '/users/:userId/media',
      {
        schema: {
          params: userParams,
          body: bodyWith(
            {
              kind: { type: 'string', enum: ['sticker', 'photo', 'voice', 'document'] },
              caption: { type: 'string', maxLength: MAX_CAPTION },
            },
            ['kind'],
          ),
        },
      },
      async (request) => ({
        ok: true,
        result: await userFor(request.params.userId, request.body).sendMedia(
          request.body.kind,
          request.body.caption,
        ),
      }),
    );

    app.post<EditRoute>(
      '/users/:userId/edit',
      {
        schema: {
          params: userParams,
          body: bodyWith({ message_id: { type: 'integer' }, text: messageText }, ['message_id', 'text']),
        },
      },
      async (request) => ({
        ok: true,
        result: await userFor(request.params.userId, request.body).editText(
          request.body.message_id,
          request.body.text,
        ),
      }),
    );

    app.post<GroupTextRoute>(
      '/users/:userId/group-text',
      {
        schema: {
          params: userParams,
          body: bodyWith(
            { group_id: { type: 'integer', maximum: -1 }, title: { type: 'string' }, text: messageText },
            ['group_id', 'text'],
          ),
        },
      },
      async (request) => ({
        ok: true,
        result: await userFor(request.params.userId, request.body).sendTextInGroup(
          { id: request.body.group_id, title: request.body.title ?? `Group ${-request.body.group_id}` },
          request.body.text,
        ),
      }),
    );

    app.post<BlockRoute>(
      '/users/:userId/block',
      { schema: { params: userParams, body: bodyWith({ blocked: { type: 'boolean' } }, ['blocked']) } },
      async (request) => {
        const user = userFor(request.params.userId, request.body);
        return { ok: true, result: await (request.body.blocked ? user.blockBot() : user.unblockBot()) };
      },
    );

    app.post<PressRoute>(
      '/users/:userId/press',
      {
        schema: {
          params: userParams,
          body: bodyWith(
            {
              message_id: { type: 'integer' },
              text: { type: 'string' },
              data: { type: 'string' },
              raw_data: { type: 'string' },
            },
            ['message_id'],
          ),
        },
      },
      async (request) => {
        const { message_id: messageId, text, data, raw_data: rawData } = request.body;
        const user = userFor(request.params.userId, request.body);
        if (rawData !== undefined) return { ok: true, result: await user.pressData(messageId, rawData) };
        if (text !== undefined) return { ok: true, result: await user.press(messageId, text) };
        if (data !== undefined) return { ok: true, result: await user.press(messageId, { data }) };
        throw new Error('press needs one of text, data or raw_data');
      },
    );

    app.get<{ Params: { chatId: number } }>(
      '/chats/:chatId/messages',
      {
        schema: {
          params: { type: 'object', properties: { chatId: { type: 'integer' } }, required: ['chatId'] },
        },
      },
      async (request) => ({ ok: true, result: world.botMessages(request.params.chatId) }),
    );

    app.get<{ Querystring: { method?: string; limit?: number } }>(
      '/calls',
      {
        schema: {
          querystring: {
            type: 'object',
            properties: { method: { type: 'string' }, limit: { type: 'integer', minimum: 1 } },
          },
        },
      },
      async (request) => {
        const { method, limit = 50 } = request.query;
        const calls = log.all.filter((call) => method === undefined || call.method === method);
        return { ok: true, result: calls.slice(-limit) };
      },
    );
  };
}
