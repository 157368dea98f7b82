import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { LocalProviderFault } from '../../config.js';
import { describeError } from '../../errors.js';
import { EVENT } from '../../telemetry/conventions.js';
import type { Logger } from '../../telemetry/logger.js';
import { SIGNATURE_HEADER, signCallback, TIMESTAMP_HEADER } from './callback-signature.js';
import { type CallbackPayload, SUBMIT_PATH, type SubmitRequest } from './contract.js';
import { promptImage } from './prompt-image.js';

/** Where the built-in provider is mounted on the bot's own HTTP server. */
export const LOCAL_PROVIDER_PREFIX = '/local-provider';
const RESULTS_PATH = '/v1/results';
/** Results kept for download; older ones are dropped (a delivered result was already downloaded). */
const KEPT_RESULTS = 100;

export interface LocalProviderOptions {
  apiKey: string;
  callbackSecret: string;
  delayMs: number;
  fault: LocalProviderFault;
  /** The base URL it is reachable at (for result URLs), known once the server listens. */
  publicBase: () => string;
  logger: Logger;
}

const submitSchema = {
  type: 'object',
  required: ['model', 'input', 'callback_url'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 100 },
    input: { type: 'object', additionalProperties: { type: 'string' } },
    callback_url: { type: 'string', minLength: 1, maxLength: 2000 },
  },
} as const;

/**
 * A generation provider inside the bot's process, serving the same HTTP contract as a real one
 * (contract.ts): it accepts a task, waits LOCAL_PROVIDER_DELAY_MS, renders a PNG from the prompt and calls
 * back, signed. LOCAL_PROVIDER_FAULT makes it fail the ways real providers do, for demos and tests. It makes
 * no spans of its own: to the bot it is a remote service, seen through the adapter's CLIENT spans.
 */
export function localProvider(options: LocalProviderOptions): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const timers = new Set<NodeJS.Timeout>();
    const hanging = new Set<() => void>();
    const results = new Map<string, Buffer>();
    const expectedKey = Buffer.from(`Bearer ${options.apiKey}`);

    app.addHook('onClose', async () => {
      for (const timer of timers) clearTimeout(timer);
      for (const release of hanging) release();
    });

    const later = (fn: () => Promise<void>) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void fn();
      }, options.delayMs);
      timers.add(timer);
    };

    const faultLine = (taskId: string) =>
      options.logger.warn(
        { event: EVENT.LOCAL_PROVIDER_FAULT, fault: options.fault, task_id: taskId },
        'local provider misbehaves on purpose (LOCAL_PROVIDER_FAULT)',
      );

    const callBack = async (url: string, payload: CallbackPayload, traceparent: string | undefined) => {
      const body = JSON.stringify(payload);
      const timestamp = Math.floor(Date.now() / 1000);
      const secret =
        options.fault === 'bad-signature' ? `not-${options.callbackSecret}` : options.callbackSecret;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [TIMESTAMP_HEADER]: String(timestamp),
            [SIGNATURE_HEADER]: signCallback(secret, timestamp, body),
            ...(traceparent ? { traceparent } : {}),
          },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        await response.body?.cancel();
      } catch (error) {
        // A real provider would retry; the bot's sweep covers a callback that never arrives.
        options.logger.warn(
          { event: EVENT.LOCAL_PROVIDER_FAULT, fault: 'callback-failed', detail: describeError(error) },
          'local provider could not deliver its callback',
        );
      }
    };

    app.post<{ Body: SubmitRequest }>(
      SUBMIT_PATH,
      {
        schema: { body: submitSchema },
        onRequest: async (request, reply) => {
          const given = Buffer.from(request.headers.authorization ?? '');
          if (given.length !== expectedKey.length || !timingSafeEqual(given, expectedKey)) {
            return reply.code(401).send({ error: 'unauthorized' });
          }
        },
      },
      async (request, reply) => {
        const taskId = `lp_${randomUUID()}`;
        const { model, input, callback_url: callbackUrl } = request.body;
        const traceparent = request.headers.traceparent as string | undefined;
        if (options.fault !== 'none') faultLine(taskId);

        if (options.fault === 'timeout') {
          // Accept the connection and never answer, until the caller gives up or the server closes.
          await new Promise<void>((resolve) => {
            const release = () => {
              hanging.delete(release);
              resolve();
            };
            hanging.add(release);
            // The response's close, not the request's: a request emits 'close' as soon as its body was read.
            reply.raw.once('close', release);
          });
          return reply.code(504).send({ error: 'timeout' });
        }

        later(async () => {
          if (options.fault === 'no-callback') return;
          if (options.fault === 'error') {
            await callBack(
              callbackUrl,
              {
                task_id: taskId,
                state: 'fail',
                error: { code: 'generation_failed', message: 'the model failed' },
              },
              traceparent,
            );
            return;
          }
          results.set(taskId, promptImage(model, input));
          for (const old of [...results.keys()].slice(0, Math.max(0, results.size - KEPT_RESULTS))) {
            results.delete(old);
          }
          const payload: CallbackPayload = {
            task_id: taskId,
            state: 'success',
            result_urls: [`${options.publicBase()}${LOCAL_PROVIDER_PREFIX}${RESULTS_PATH}/${taskId}.png`],
          };
          await callBack(callbackUrl, payload, traceparent);
          if (options.fault === 'double-callback') await callBack(callbackUrl, payload, traceparent);
        });
        return { task_id: taskId };
      },
    );

    app.get<{ Params: { file: string } }>(`${RESULTS_PATH}/:file`, async (request, reply) => {
      const bytes = results.get(request.params.file.replace(/\.png$/, ''));
      if (!bytes) return reply.code(404).send({ error: 'not found' });
      return reply.type('image/png').send(bytes);
    });
  };
}
