/**
 * The HTTP contract of a generation provider, in the style of the aggregators (submit a task with a
 * callback URL, get a task id, receive the result by callback). The built-in local provider serves
 * exactly this; PROVIDER_URL points the adapter at a real one.
 *
 *   POST {PROVIDER_URL}/v1/tasks          Authorization: Bearer PROVIDER_API_KEY, traceparent
 *        { model, input: { prompt, ...options }, callback_url }      → 200 { task_id }
 *   POST {callback_url}                   x-provider-timestamp, x-provider-signature (callback-signature.ts)
 *        { task_id, state: "success", result_urls: [url] } | { task_id, state: "fail", error: { code, message } }
 *   GET  {result url}                     → the file
 */
export const SUBMIT_PATH = '/v1/tasks';

export interface SubmitRequest {
  model: string;
  input: Record<string, string>;
  callback_url: string;
}

export interface SubmitResponse {
  task_id: string;
}

export type CallbackPayload =
  | { task_id: string; state: 'success'; result_urls: string[] }
  | { task_id: string; state: 'fail'; error: { code: string; message: string } };

/** JSON schema of the callback body, for the fastify route. */
export const callbackBodySchema = {
  type: 'object',
  required: ['task_id', 'state'],
  properties: {
    task_id: { type: 'string', minLength: 1, maxLength: 200 },
    state: { type: 'string', enum: ['success', 'fail'] },
    result_urls: { type: 'array', items: { type: 'string', maxLength: 2000 }, maxItems: 10 },
    error: {
      type: 'object',
      properties: { code: { type: 'string', maxLength: 200 }, message: { type: 'string', maxLength: 2000 } },
    },
  },
} as const;
