import { findModel } from '../catalogue/models.js';
import { failureTextKey } from '../generation/failure-text.js';
import { ATTR, SPAN } from '../telemetry/conventions.js';
import { REASON_CODES, type ReasonCode } from '../telemetry/reason-codes.js';
import { nextStepFor } from './next-steps.js';
import { type LogView, rootOf, type SpanView, type TraceView } from './trace-view.js';

/**
 * What one trace says about one update, in the words an admin needs: what the user did, where it failed
 * and why, which downstream was involved, what the user was told, what came later under the same cid,
 * and what to do next. Pure: the same answer from the in-process recorder, Tempo + Loki or the admin API.
 */
export interface Diagnosis {
  readonly cid: string;
  readonly startedAt: Date | undefined;
  readonly durationMs: number | undefined;
  readonly updateType: string | undefined;
  readonly userPseudonym: string | undefined;
  readonly whatUserDid: string;
  readonly outcome: string;
  readonly reasonCode: string;
  readonly reasonDetail: string | undefined;
  readonly handler: string | undefined;
  /**
   * Where it went wrong (for a no-op: where it was decided): `received` (refused before any handler),
   * `handler <name>`, or the failed span's path below the root, e.g. `stage render › botapi sendMessage`.
   */
  readonly failingStage: string | undefined;
  readonly errorType: string | undefined;
  readonly errorMessage: string | undefined;
  /** The failed or refusing downstream call, e.g. `Telegram sendMessage → 403 Forbidden: bot was blocked`. */
  readonly downstream: string | undefined;
  /** What the user saw, and whether it reached them. */
  readonly toldUser: string;
  /** The update's stages, Bot API and store calls in order, with durations and results. */
  readonly chain: readonly ChainStep[];
  /** Spans under the same cid that began after the update ended (generation jobs, payments). */
  readonly laterSteps: readonly ChainStep[];
  readonly nextStep: string;
  /** True when the user did not get what they asked for (a rejection, a failure, a silent update). */
  readonly failed: boolean;
}

export interface ChainStep {
  readonly offsetMs: number;
  readonly durationMs: number;
  readonly depth: number;
  readonly name: string;
  readonly result: string;
  readonly failed: boolean;
}

export interface DiagnoseOptions {
  /** The English text of a reply key (locales/en.ftl), for "what the user was told". */
  replyText?: (key: string, variables?: Record<string, string | number>) => string | undefined;
}

const str = (value: unknown): string | undefined =>
  value === undefined || value === null || value === '' ? undefined : String(value);

/**
 * OTel JS takes a span's start from the wall clock and its duration from the monotonic one, so a child can
 * appear to start a millisecond after its parent ended. Later steps (a job's worker) start far later.
 */
const CLOCK_SLACK_MS = 5;

const SUCCESSFUL_OUTCOMES = new Set(['success', 'noop']);
/** Replies that carry an outcome to the user, in the order they appear. */
const REPLY_METHODS = new Set([
  'answerCallbackQuery',
  'sendMessage',
  'editMessageText',
  'sendPhoto',
  'sendDocument',
]);

export function diagnose(trace: TraceView, options: DiagnoseOptions = {}): Diagnosis {
  const root = rootOf(trace);
  const spans = trace.spans;
  const attr = (span: SpanView | undefined, key: string) => str(span?.attributes[key]);
  const byName = (name: string) => spans.filter((span) => span.name === name);
  const received = byName(SPAN.RECEIVED)[0];
  const routed = byName(SPAN.ROUTED)[0];
  const rejected = byName(SPAN.REJECTED)[0];

  const rootOutcome = attr(root, ATTR.OUTCOME) ?? (root ? 'unknown' : 'not recorded');
  const handler = attr(root, ATTR.HANDLER) ?? attr(routed, ATTR.HANDLER);
  const rootEnd = root ? root.startMs + root.durationMs + CLOCK_SLACK_MS : Number.POSITIVE_INFINITY;
  const depthOf = depthFunction(spans);

  // Later steps: what ran after the update, or apart from it under the same cid: a job's worker (`process
  // generation`, a CONSUMER), a provider callback (a SERVER), a linked trace's root (the deadline sweep),
  // with everything under them. A fast worker may start before the update ends; it is still a later step.
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  const beginsLaterStep = (span: SpanView) =>
    span !== root &&
    (span.parentSpanId === undefined ||
      span.kind === 'consumer' ||
      span.kind === 'server' ||
      span.startMs > rootEnd);
  const isLater = (span: SpanView) => {
    for (let s: SpanView | undefined = span, n = 0; s && s !== root && n < 64; n += 1) {
      if (beginsLaterStep(s)) return true;
      s = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
    }
    return false;
  };
  const updateSpans = treeOrder(
    spans.filter((span) => span !== root && !isLater(span)),
    byId,
  );
  const laterSpans = treeOrder(spans.filter(isLater), byId);
  const failedSpans = updateSpans.filter((span) => span.status === 'error' && span.name !== SPAN.REJECTED);
  // The deepest failure is the cause; its ancestors merely carry it up.
  const cause = [...failedSpans].sort((a, b) => depthOf(b) - depthOf(a) || a.startMs - b.startMs)[0];
  // A later step (a generation job, a payment) that ended the user's request with its own reason code.
  const laterDecision = laterSpans.find((span) => {
    const code = attr(span, ATTR.REASON_CODE);
    return code !== undefined && code !== 'SUCCESS';
  });
  const laterFailures = laterSpans.filter((span) => span.status === 'error' && span !== laterDecision);
  const laterFailure =
    [...laterFailures].sort((a, b) => depthOf(b) - depthOf(a) || a.startMs - b.startMs)[0] ?? laterDecision;
  const laterOverrides = SUCCESSFUL_OUTCOMES.has(rootOutcome) && laterDecision !== undefined;
  const laterCode = attr(laterDecision, ATTR.REASON_CODE) as ReasonCode | undefined;
  const outcome = laterOverrides ? (REASON_CODES[laterCode as ReasonCode]?.kind ?? 'error') : rootOutcome;
  const reasonCode = laterOverrides
    ? (laterCode as string)
    : (attr(root, ATTR.REASON_CODE) ??
      attr(rejected, ATTR.REASON_CODE) ??
      (outcome === 'silent' ? 'NONE' : 'unknown'));

  const failed = !SUCCESSFUL_OUTCOMES.has(outcome) || laterFailure !== undefined;
  const exception = [root, rejected, cause, laterFailure, laterDecision]
    .flatMap((span) => span?.events ?? [])
    .find((event) => event.name === 'exception');
  const errorType =
    attr(root, 'error.type') ??
    attr(cause ?? laterFailure, 'error.type') ??
    str(exception?.attributes['exception.type']);
  const errorMessage =
    str(exception?.attributes['exception.message']) ??
    root?.statusMessage ??
    (cause ?? laterFailure)?.statusMessage;

  const failingStage = (() => {
    if (SUCCESSFUL_OUTCOMES.has(rootOutcome) && laterFailure)
      return pathOf(laterFailure, spans, new Set(updateSpans));
    if (outcome === 'success') return undefined;
    if (cause) return pathOf(cause, spans);
    if (outcome === 'silent') return `handler ${handler ?? 'none'}`;
    if (!routed || (rejected && rejected.startMs < routed.startMs)) return 'received';
    return `handler ${handler ?? 'none'}`;
  })();

  const chain = (list: SpanView[]) => {
    const members = new Set(list);
    return list.map((span) => ({
      offsetMs: root ? span.startMs - root.startMs : 0,
      durationMs: span.durationMs,
      // Indented under its parent within the same list (a later step starts at the left).
      depth: depthWithin(span, members, byId),
      name: span.name,
      result: resultOf(span),
      failed: span.status === 'error',
    }));
  };

  const downstreamSpan = cause ?? laterFailure;
  const reasonDetail = laterOverrides
    ? attr(laterDecision, ATTR.REASON_DETAIL)
    : attr(rejected, ATTR.REASON_DETAIL);
  return {
    cid: trace.traceId,
    startedAt: root ? new Date(root.startMs) : undefined,
    durationMs: root?.durationMs,
    updateType: attr(root, ATTR.UPDATE_TYPE),
    userPseudonym: attr(root, ATTR.USER_PSEUDONYM),
    whatUserDid: whatUserDid(root, received, trace.logs),
    outcome,
    reasonCode,
    reasonDetail,
    handler,
    failingStage,
    errorType,
    errorMessage,
    downstream: downstreamSpan ? describeDownstream(downstreamSpan, trace.logs, spans) : undefined,
    toldUser: laterOverrides
      ? toldUser(trace.traceId, reasonCode, laterDecision, laterSpans, trace.logs, options, spans)
      : toldUser(trace.traceId, reasonCode, rejected ?? root, updateSpans, trace.logs, options, spans),
    chain: chain(updateSpans),
    laterSteps: chain(laterSpans),
    nextStep: nextStepFor({
      reasonCode,
      outcome,
      errorType: attr(downstreamSpan, 'error.type') ?? errorType,
      botApiErrorCode: attr(downstreamSpan, ATTR.BOTAPI_ERROR_CODE),
      failingStage,
    }),
    failed,
  };
}

/** Parents before their children, siblings (and separate subtrees) by start. */
function treeOrder(list: readonly SpanView[], byId: ReadonlyMap<string, SpanView>): SpanView[] {
  const members = new Set(list);
  const children = new Map<SpanView | undefined, SpanView[]>();
  for (const span of list) {
    const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    const key = parent && members.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const ordered: SpanView[] = [];
  const visit = (parent: SpanView | undefined) => {
    const kids = (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs);
    for (const kid of kids) {
      ordered.push(kid);
      visit(kid);
    }
  };
  visit(undefined);
  return ordered;
}

/** How many of the span's ancestors are in `members`. */
function depthWithin(
  span: SpanView,
  members: ReadonlySet<SpanView>,
  byId: ReadonlyMap<string, SpanView>,
): number {
  let depth = 0;
  let parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
  while (parent && members.has(parent) && depth < 64) {
    depth += 1;
    parent = parent.parentSpanId ? byId.get(parent.parentSpanId) : undefined;
  }
  return depth;
}

function depthFunction(spans: readonly SpanView[]): (span: SpanView) => number {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  return (span) => {
    let depth = 0;
    let parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    while (parent && depth < 64) {
      depth += 1;
      parent = parent.parentSpanId ? byId.get(parent.parentSpanId) : undefined;
    }
    return depth;
  };
}

/**
 * `stage render › botapi editMessageText`: the span and its ancestors below the update's root (a linked
 * trace's own root, e.g. `job sweep`, is part of the path). A later step's path starts at the later step
 * (`provider callback › job fail`), not at the update's span that stored the job's traceparent.
 */
function pathOf(span: SpanView, spans: readonly SpanView[], stopAt?: ReadonlySet<SpanView>): string {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const root = spans.find((s) => s.parentSpanId === undefined);
  const names = [span.name];
  let parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
  while (parent && parent !== root && !stopAt?.has(parent) && names.length < 16) {
    names.unshift(parent.name);
    parent = parent.parentSpanId ? byId.get(parent.parentSpanId) : undefined;
  }
  return names.join(' › ');
}

function resultOf(span: SpanView): string {
  const a = span.attributes;
  if (a[ATTR.BOTAPI_METHOD] !== undefined) {
    if (a[ATTR.BOTAPI_OK] === true) return 'ok';
    const retry =
      a[ATTR.BOTAPI_RETRY_AFTER] === undefined ? '' : ` retry_after=${a[ATTR.BOTAPI_RETRY_AFTER]}s`;
    return `${a[ATTR.BOTAPI_ERROR_CODE] ?? 'failed'}${span.statusMessage ? ` ${span.statusMessage}` : ''}${retry}`;
  }
  const parts: string[] = [];
  for (const key of [ATTR.BUTTON_ID, ATTR.SCREEN_ID, ATTR.HANDLER, ATTR.REASON_CODE, ATTR.REASON_DETAIL]) {
    if (a[key] !== undefined) parts.push(`${key.replace('tracegram.', '')}=${a[key]}`);
  }
  if (span.status === 'error') parts.push(`ERROR ${a['error.type'] ?? ''}`.trim());
  return parts.join(' ') || (span.status === 'error' ? 'ERROR' : 'ok');
}

function whatUserDid(
  root: SpanView | undefined,
  received: SpanView | undefined,
  logs: readonly LogView[],
): string {
  const type =
    str(root?.attributes[ATTR.UPDATE_TYPE]) ?? root?.name.replace(SPAN.UPDATE_PREFIX, '') ?? 'an update';
  const button = str(received?.attributes[ATTR.BUTTON_ID]);
  if (button) {
    const screen = str(received?.attributes[ATTR.SCREEN_ID]);
    const age = received?.attributes[ATTR.MESSAGE_AGE];
    return `pressed ${button}${screen ? ` on ${screen}` : ''}${typeof age === 'number' && age >= 0 ? ` (message ${age} s old)` : ''}`;
  }
  const stars = received?.attributes[ATTR.PAYMENT_STARS];
  const pkg = str(received?.attributes[ATTR.PAYMENT_PACKAGE]);
  if (stars !== undefined || pkg) {
    const what = `${stars ?? '?'} ⭐ for package ${pkg ?? '?'}`;
    return type === 'pre_checkout_query' ? `confirmed a payment of ${what} (pre-checkout)` : `paid ${what}`;
  }
  // The span says it at every log level; the COMMAND_* line only at debug (older traces have only that).
  const command =
    str(received?.attributes[ATTR.COMMAND]) ??
    logs
      .find((log) => log.event?.startsWith('COMMAND_'))
      ?.event?.slice('COMMAND_'.length)
      .toLowerCase();
  if (command) return `sent /${command}`;
  const length = received?.attributes[ATTR.MESSAGE_LENGTH];
  if (typeof length === 'number') return `sent a text of ${length} characters`;
  if (type === 'callback_query') return 'pressed a button that could not be decoded';
  if (type === 'message') return 'sent a message';
  return `sent a ${type} update`;
}

function describeDownstream(span: SpanView, logs: readonly LogView[], spans: readonly SpanView[]): string {
  const a = span.attributes;
  const method = str(a[ATTR.BOTAPI_METHOD]);
  if (method) {
    const code = str(a[ATTR.BOTAPI_ERROR_CODE]) ?? 'failed';
    const logged = logs.find((log) => log.fields.method === method && log.fields.description !== undefined);
    const description = span.statusMessage ?? str(logged?.fields.description);
    const retry =
      a[ATTR.BOTAPI_RETRY_AFTER] === undefined ? '' : ` (retry after ${a[ATTR.BOTAPI_RETRY_AFTER]} s)`;
    return `Telegram Bot API ${method} → ${code === 'network' ? 'no answer (network)' : code}${description ? `: ${description}` : ''}${retry}`;
  }
  if (span.name === SPAN.PROVIDER_SUBMIT || span.name === SPAN.PROVIDER_RESULT) {
    const server = str(a['server.address']);
    const status = str(a['http.response.status_code']);
    const what = [str(a['error.type']), span.statusMessage].filter(Boolean).join(': ');
    return `generation provider${server ? ` (at ${server})` : ''} ${span.name.replace('provider ', '')}${status ? ` → HTTP ${status}` : ''} → ${what || 'failed'}`;
  }
  if (span.name === SPAN.JOB_FAIL) {
    // The job ended without a failed call of ours: the provider failed the task or never called back.
    const submit = spans.find((s) => s.name === SPAN.PROVIDER_SUBMIT);
    const server = str(submit?.attributes['server.address']);
    const task = str(
      spans.find((s) => s.attributes[ATTR.PROVIDER_TASK_ID] !== undefined)?.attributes[ATTR.PROVIDER_TASK_ID],
    );
    const where = [server && `at ${server}`, task && `task ${task}`].filter(Boolean).join(', ');
    const what = [str(a['error.type']), span.statusMessage].filter(Boolean).join(': ');
    return `generation provider${where ? ` (${where})` : ''} → ${what || 'failed'}`;
  }
  const db = str(a['db.system.name']);
  if (db) {
    const engine = str(a[ATTR.STORE_ENGINE]) ?? db;
    return `store (${engine}) ${span.name} → ${str(a['error.type']) ?? 'failed'}`;
  }
  const server = str(a['server.address']);
  return `${span.name}${server ? ` (${server})` : ''} → ${str(a['error.type']) ?? span.statusMessage ?? 'failed'}`;
}

/** Replies that are nothing at all when no call was made: what the user saw, in words. */
const NO_REPLY: Readonly<Record<string, string>> = {
  DUPLICATE_UPDATE: 'nothing: a repeat of an update already answered gets no reply',
  DUPLICATE_PAYMENT: 'nothing: the first delivery of this payment was credited and answered',
  BOT_BLOCKED: 'nothing: the user blocked the bot, so Telegram refuses every message to them (403)',
};

function toldUser(
  cid: string,
  reasonCode: string,
  decision: SpanView | undefined,
  spans: readonly SpanView[],
  logs: readonly LogView[],
  options: DiagnoseOptions,
  all: readonly SpanView[],
): string {
  const entry = REASON_CODES[reasonCode as ReasonCode] as { reply: string | null } | undefined;
  const after = decision?.startMs ?? 0;
  const replies = spans.filter(
    // For a success the decision is the root (its screen is the reply); otherwise what follows the decision.
    (span) => span.startMs >= after && REPLY_METHODS.has(str(span.attributes[ATTR.BOTAPI_METHOD]) ?? ''),
  );
  const delivery = replies
    .map((span) => {
      const method = String(span.attributes[ATTR.BOTAPI_METHOD]);
      const ok = span.attributes[ATTR.BOTAPI_OK] === true;
      return `${method} ${ok ? '✓' : `✗ ${str(span.attributes[ATTR.BOTAPI_ERROR_CODE]) ?? 'failed'}`}`;
    })
    .join(', ');
  const replyFailed = logs.some((log) => log.event === 'FAILURE_REPLY_FAILED');
  if (!delivery && NO_REPLY[reasonCode]) return NO_REPLY[reasonCode];
  if (decision?.name === SPAN.JOB_FAIL) {
    // A job's failure is told by the notifier, outside any update, with the refund.
    const key = failureTextKey(reasonCode);
    const model = str(
      all.find((s) => s.attributes[ATTR.JOB_MODEL] !== undefined)?.attributes[ATTR.JOB_MODEL],
    );
    const price = all.find((s) => typeof s.attributes[ATTR.JOB_PRICE] === 'number')?.attributes[
      ATTR.JOB_PRICE
    ];
    const text =
      typeof price === 'number'
        ? options.replyText?.(key, { title: findModel(model)?.title ?? model ?? '?', price, cid })
        : undefined;
    const what = text ? `"${text}"` : `the ${key} message (the failure, the refund, the support code)`;
    return delivery ? `${what} via ${delivery}` : `${what}, but no message call was recorded`;
  }
  if (!entry) return delivery ? `(no reply text known) via ${delivery}` : 'nothing: no reply was sent';
  if (entry.reply === null) return delivery ? `the next screen, via ${delivery}` : 'the next screen';
  const text = options.replyText?.(entry.reply, { cid });
  const what = text ? `"${text}"` : `the ${entry.reply} reply`;
  if (!delivery) return `${what}, but no reply call was recorded`;
  return `${what} via ${delivery}${replyFailed ? ' (the apology did not reach the user)' : ''}`;
}
