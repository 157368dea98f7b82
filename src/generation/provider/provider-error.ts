import { TracegramError } from '../../errors.js';

/**
 * How a provider call failed. `timeout` (no answer in time) is DOWNSTREAM_TIMEOUT; every other kind is the
 * provider refusing or failing the work, PROVIDER_ERROR.
 */
export type ProviderErrorKind = 'timeout' | 'network' | 'http_status' | 'bad_response' | 'task_failed';

export class ProviderError extends TracegramError {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  /** The HTTP status, when the provider answered with one. */
  readonly status: number | undefined;

  constructor(kind: ProviderErrorKind, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(kind === 'timeout' ? 'DOWNSTREAM_TIMEOUT' : 'PROVIDER_ERROR', message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      detail: `provider ${kind}${options.status === undefined ? '' : ` ${options.status}`}`,
    });
    this.kind = kind;
    this.status = options.status;
  }
}
