import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { CallLog } from './calls.js';
import { CONTROL_PREFIX, controlRoutes } from './control-routes.js';
import { BotApiError, badRequest, DESCRIPTION } from './errors.js';
import type { FaultPlan } from './faults.js';
import type { CallOutcome, MethodDispatcher } from './methods.js';
import type { RawParams, UploadedFile } from './params.js';
import type { World } from './world.js';

export interface ServerDeps {
  token: string;
  dispatcher: MethodDispatcher;
  faults: FaultPlan;
  log: CallLog;
  world: World;
}

/** Bots upload up to 50 MB: https://core.telegram.org/bots/api#sending-files */
const BODY_LIMIT_BYTES = 50 * 1024 * 1024;
const BOT_ROUTE = '/bot:token/:method';

interface BotRoute {
  Params: { token: string; method: string };
}

/**
 * The HTTP face of the stand-in: `{root}/bot{token}/{method}` answered in Telegram's envelope, parameters
 * taken from the query string and a JSON, urlencoded or multipart body, as https://core.telegram.org/bots/api#making-requests
 * allows. Parameters differ per method, so the route has no body schema; the methods check their own.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  // forceCloseConnections: a `hang` fault holds a request open, and stop() must not wait for it.
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES, forceCloseConnections: true });
  registerBodyParsers(app);

  app.route<BotRoute>({
    method: ['GET', 'POST'],
    url: BOT_ROUTE,
    schema: {
      params: {
        type: 'object',
        properties: { token: { type: 'string' }, method: { type: 'string' } },
        required: ['token', 'method'],
      },
    },
    handler: (request, reply) => handleBotCall(deps, request, reply),
  });

  void app.register(controlRoutes(deps.world, deps.log), { prefix: CONTROL_PREFIX });

  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send(new BotApiError(404, DESCRIPTION.notFound).toBody());
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const botApiError = asBotApiError(error);
    // Errors raised before the handler (unparseable body) are still calls the bot made.
    if (request.routeOptions.url === BOT_ROUTE) {
      const { method } = request.params as BotRoute['Params'];
      deps.dispatcher.record(deps.dispatcher.canonicalName(method) ?? method, paramsOf(request), {
        ok: false,
        error: botApiError,
      });
    }
    void reply.code(botApiError.errorCode).send(botApiError.toBody());
  });

  return app;
}

async function handleBotCall(
  deps: ServerDeps,
  request: FastifyRequest<BotRoute>,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const { token, method } = request.params;
  const raw = paramsOf(request);
  const { dispatcher } = deps;
  if (token !== deps.token) return send(reply, dispatcher, method, raw, unauthorized());

  const name = dispatcher.canonicalName(method);
  const fault = name === undefined ? undefined : deps.faults.take(name);
  if (fault && !('kind' in fault)) {
    const error = new BotApiError(fault.error_code, fault.description, fault.retry_after);
    return send(reply, dispatcher, name ?? method, raw, { ok: false, error, injected: true });
  }
  if (fault?.kind === 'hang') return hang(deps, reply, name ?? method, raw);
  if (fault && !fault.afterExecution) return dropConnection(deps, request, reply, name ?? method, raw);

  const context = { signal: clientGone(reply) };
  const { name: called, params, outcome } = await dispatcher.run(method, raw, context);
  if (fault) return dropConnection(deps, request, reply, called, params, outcome);
  return send(reply, dispatcher, called, params, outcome);
}

function send(
  reply: FastifyReply,
  dispatcher: MethodDispatcher,
  method: string,
  params: RawParams,
  outcome: CallOutcome,
): FastifyReply {
  dispatcher.record(method, params, outcome);
  if (!outcome.ok) return reply.code(outcome.error.errorCode).send(outcome.error.toBody());
  const body =
    outcome.description === undefined
      ? { ok: true, result: outcome.result }
      : { ok: true, result: outcome.result, description: outcome.description };
  return reply.code(200).send(body);
}

/** The injected network fault: no HTTP answer at all, the way a dropped connection looks to the bot. */
function dropConnection(
  deps: ServerDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  method: string,
  params: RawParams,
  executed?: CallOutcome,
): undefined {
  deps.log.record({
    method,
    params,
    ok: false,
    fault: 'network',
    description: executed
      ? 'connection dropped after the call ran (injected network fault)'
      : 'connection dropped (injected network fault)',
    ...(executed?.ok && { result: executed.result }),
    at: Date.now(),
  });
  reply.hijack();
  request.raw.socket.destroy();
  return undefined;
}

/** The injected hang: recorded, then left unanswered; the socket closes when the bot or the stand-in gives up. */
function hang(deps: ServerDeps, reply: FastifyReply, method: string, params: RawParams): undefined {
  deps.log.record({
    method,
    params,
    ok: false,
    fault: 'hang',
    description: 'never answered (injected hang)',
    at: Date.now(),
  });
  reply.hijack();
  return undefined;
}

function unauthorized(): CallOutcome {
  return { ok: false, error: new BotApiError(401, DESCRIPTION.unauthorized) };
}

/** Aborts when the client disconnects before its answer is written (e.g. grammY stopping a long poll). */
function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** Query-string parameters, overridden by body parameters. */
function paramsOf(request: FastifyRequest): RawParams {
  const query = (request.query ?? {}) as RawParams;
  const body = typeof request.body === 'object' && request.body !== null ? (request.body as RawParams) : {};
  return { ...query, ...body };
}

function asBotApiError(error: FastifyError): BotApiError {
  if (error instanceof BotApiError) return error;
  if (error.statusCode === 413) return new BotApiError(413, 'Request Entity Too Large');
  if (error.statusCode !== undefined && error.statusCode < 500) return badRequest(error.message);
  return new BotApiError(500, `Internal Server Error: ${error.message}`);
}

function registerBodyParsers(app: FastifyInstance): void {
  // An empty JSON body is a call without parameters (curl -X POST), not an error.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body).trim();
    if (text === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch {
      done(badRequest("can't parse JSON encoded body"));
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (request, body, done) => {
    parseMultipart(String(request.headers['content-type']), body as Buffer).then(
      (params) => done(null, params),
      () => done(badRequest("can't parse multipart/form-data body")),
    );
  });
  // Anything else carries no parameters Telegram would read; the query string still counts.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, {}));
}

/**
 * Multipart as grammY sends InputFile uploads: each file is a part, referenced from a parameter by
 * `attach://<part>`. A file part nobody references is a parameter itself (`curl -F photo=@cat.jpg`).
 */
async function parseMultipart(contentType: string, body: Buffer): Promise<RawParams> {
  const form = await new Response(new Uint8Array(body), {
    headers: { 'content-type': contentType },
  }).formData();
  const params: RawParams = {};
  const files = new Map<string, UploadedFile>();
  for (const [name, value] of form) {
    if (typeof value === 'string') params[name] = value;
    else files.set(name, { upload: { filename: value.name, size: value.size, mimeType: value.type } });
  }
  const referenced = new Set<string>();
  for (const [name, value] of Object.entries(params)) {
    const part =
      typeof value === 'string' && value.startsWith('attach://')
        ? value.slice('attach://'.length)
        : undefined;
    const file = part === undefined ? undefined : files.get(part);
    if (part !== undefined && file) {
      params[name] = file;
      referenced.add(part);
    }
  }
  for (const [name, file] of files) if (!referenced.has(name) && !(name in params)) params[name] = file;
  return params;
}
