import type { BotCommand, BotCommandScope } from 'grammy/types';
import { BotApiError, badRequest, DESCRIPTION, missingParameter } from './errors.js';
import type { MethodTable } from './methods.js';
import type { Params } from './params.js';
import type { World } from './world.js';

/** https://core.telegram.org/bots/api#botcommand */
const COMMAND_PATTERN = /^[a-z0-9_]{1,32}$/;
const MAX_DESCRIPTION_LENGTH = 256;
const MAX_COMMANDS = 100;

/** getMe and the command menu, which Telegram keeps per scope and language. */
export function profileMethods(world: World): MethodTable {
  return {
    getMe: () => structuredClone(world.bot),

    setMyCommands: (p) => {
      const commands = p.object<BotCommand[]>('commands');
      if (commands === undefined) throw missingParameter('commands');
      if (!Array.isArray(commands)) throw badRequest("can't parse commands JSON object");
      if (commands.length > MAX_COMMANDS) throw badRequest('BOT_COMMANDS_TOO_MUCH');
      for (const { command, description } of commands) {
        if (typeof command !== 'string' || !COMMAND_PATTERN.test(command)) {
          throw new BotApiError(400, DESCRIPTION.botCommandInvalid);
        }
        if (
          typeof description !== 'string' ||
          description === '' ||
          description.length > MAX_DESCRIPTION_LENGTH
        ) {
          throw new BotApiError(400, DESCRIPTION.botCommandDescriptionInvalid);
        }
      }
      const key = menuKey(p);
      if (commands.length === 0) world.commands.delete(key);
      else
        world.commands.set(
          key,
          commands.map(({ command, description }) => ({ command, description })),
        );
      return true;
    },

    getMyCommands: (p) => structuredClone(world.commands.get(menuKey(p)) ?? []),

    deleteMyCommands: (p) => {
      world.commands.delete(menuKey(p));
      return true;
    },
  };
}

/** Menus are looked up by exact scope + language; Telegram's fallback to wider scopes is the client's job. */
function menuKey(p: Params): string {
  const scope = p.object<BotCommandScope>('scope') ?? { type: 'default' };
  const { type } = scope;
  const chatId = 'chat_id' in scope ? scope.chat_id : undefined;
  const userId = 'user_id' in scope ? scope.user_id : undefined;
  return JSON.stringify([type, chatId ?? null, userId ?? null, p.string('language_code') ?? '']);
}
