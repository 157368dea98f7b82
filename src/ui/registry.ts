/**
 * The UI registry: the single source of truth for screens, buttons and the transitions between them.
 * Keyboards are built from it (ui/keyboard.ts), callback data is decoded against it (ui/callback-data.ts),
 * handlers are bound to its button ids, and telemetry names screens and buttons with its ids.
 */

export const SCREEN = {
  MAIN_MENU: 'MAIN_MENU',
  CATEGORY_PICK: 'CATEGORY_PICK',
  MODEL_PICK: 'MODEL_PICK',
  PARAMS_FORM: 'PARAMS_FORM',
  CONFIRM: 'CONFIRM',
  HELP: 'HELP',
  BALANCE: 'BALANCE',
  HISTORY: 'HISTORY',
  /** The admin view /debug draws: detached from the chat's journey (see DETACHED_SCREENS). */
  DEBUG: 'DEBUG',
  /** A generation job was queued: its result comes as a new message. */
  QUEUED: 'QUEUED',
  /**
   * A job's outcome as a message of its own: the result (a photo or document with its Repeat button) or why
   * it failed. Detached (see DETACHED_SCREENS): drawn beside the journey, first by the job, again by History.
   */
  RESULT: 'RESULT',
} as const;
export type ScreenId = (typeof SCREEN)[keyof typeof SCREEN];

/** Short codes keep callback_data within Telegram's 64 bytes. Codes are part of the wire format: never reuse one. */
export const SCREEN_CODE: Record<ScreenId, string> = {
  MAIN_MENU: 'mm',
  CATEGORY_PICK: 'cp',
  MODEL_PICK: 'mp',
  PARAMS_FORM: 'pf',
  CONFIRM: 'cf',
  HELP: 'hp',
  BALANCE: 'bl',
  HISTORY: 'hs',
  DEBUG: 'dg',
  QUEUED: 'qu',
  RESULT: 'rs',
};

/**
 * Screens drawn beside the journey rather than in it: their message is never the chat's live one and
 * pressing their buttons does not move the chat, so the callback guard skips the live-message and
 * current-screen checks for them (their feature checks who may press them instead).
 */
export const DETACHED_SCREENS: ReadonlySet<ScreenId> = new Set<ScreenId>(['DEBUG', 'RESULT']);

/** The screens of the user's journey: each has a view in bot/views.ts. */
export type JourneyScreenId = Exclude<ScreenId, 'DEBUG' | 'RESULT'>;

/**
 * Buttons. `args` names the values a button carries (validated by `pattern`), `handler` is the one
 * feature composer that answers it; a registry test proves each button reaches exactly that handler.
 */
export const BUTTON = {
  CATEGORY: { code: 'c', args: ['category'], handler: 'catalogue' },
  MODEL: { code: 'm', args: ['model'], handler: 'catalogue' },
  OPEN_PARAMS: { code: 'p', args: [], handler: 'catalogue' },
  OPTION: { code: 'o', args: ['param', 'value'], handler: 'params' },
  PARAMS_DONE: { code: 'd', args: [], handler: 'params' },
  GENERATE: { code: 'g', args: [], handler: 'generate' },
  BALANCE: { code: 'b', args: [], handler: 'payments' },
  TOPUP: { code: 't', args: ['package'], handler: 'payments' },
  HISTORY: { code: 'h', args: [], handler: 'history' },
  /** History's ◀ ▶: `page` counts from 0. */
  HISTORY_PAGE: { code: 'hn', args: ['page'], handler: 'history' },
  /** One job of History (a job ref, src/generation/job-ref.ts): re-sends its result or explains its failure. */
  HISTORY_JOB: { code: 'hj', args: ['job'], handler: 'history' },
  /** On a delivered result: the same model and parameters again, with the same checks as Generate. */
  REPEAT: { code: 'r', args: ['job'], handler: 'generate' },
  HELP: { code: 'q', args: [], handler: 'menu' },
  BACK: { code: 'k', args: [], handler: 'navigation' },
  CANCEL: { code: 'x', args: [], handler: 'navigation' },
  /** /debug's list: `filter` is `all` or `errors` (Refresh keeps the current one). */
  DEBUG_LIST: { code: 'dl', args: ['filter'], handler: 'debug' },
  /** One entry of /debug's list: its short support code. */
  DEBUG_TRACE: { code: 'dt', args: ['code'], handler: 'debug' },
  /** ◀ ▶ under a long /debug answer: which answer (`list`/`chain`/`user` and its key) and the page. */
  DEBUG_PAGE: { code: 'dp', args: ['view', 'key', 'page'], handler: 'debug' },
} as const satisfies Record<string, { code: string; args: readonly string[]; handler: string }>;
export type ButtonId = keyof typeof BUTTON;
export type HandlerName = (typeof BUTTON)[ButtonId]['handler'];

/** Argument values are short slugs (a job ref is 32 hex digits); anything else is forged or corrupt. */
export const ARG_PATTERN = /^[a-z0-9_-]{1,32}$/;

/**
 * Where each button goes from each screen. A button that is not listed for a screen cannot appear on it,
 * and callback data naming such a pair is rejected as UNKNOWN_ACTION.
 */
export const TRANSITIONS: ReadonlyArray<{ from: ScreenId; button: ButtonId; to: ScreenId }> = [
  { from: 'MAIN_MENU', button: 'CATEGORY', to: 'CATEGORY_PICK' },
  { from: 'MAIN_MENU', button: 'BALANCE', to: 'BALANCE' },
  { from: 'MAIN_MENU', button: 'HISTORY', to: 'HISTORY' },
  { from: 'MAIN_MENU', button: 'HELP', to: 'HELP' },
  { from: 'CATEGORY_PICK', button: 'MODEL', to: 'MODEL_PICK' },
  { from: 'CATEGORY_PICK', button: 'BACK', to: 'MAIN_MENU' },
  { from: 'CATEGORY_PICK', button: 'CANCEL', to: 'MAIN_MENU' },
  { from: 'MODEL_PICK', button: 'OPEN_PARAMS', to: 'PARAMS_FORM' },
  { from: 'MODEL_PICK', button: 'BACK', to: 'CATEGORY_PICK' },
  { from: 'MODEL_PICK', button: 'CANCEL', to: 'MAIN_MENU' },
  { from: 'PARAMS_FORM', button: 'OPTION', to: 'PARAMS_FORM' },
  { from: 'PARAMS_FORM', button: 'PARAMS_DONE', to: 'CONFIRM' },
  { from: 'PARAMS_FORM', button: 'BACK', to: 'MODEL_PICK' },
  { from: 'PARAMS_FORM', button: 'CANCEL', to: 'MAIN_MENU' },
  { from: 'CONFIRM', button: 'GENERATE', to: 'QUEUED' },
  // The top-up offer next to Generate: the balance screen, where credits are bought.
  { from: 'CONFIRM', button: 'BALANCE', to: 'BALANCE' },
  { from: 'CONFIRM', button: 'BACK', to: 'PARAMS_FORM' },
  { from: 'CONFIRM', button: 'CANCEL', to: 'MAIN_MENU' },
  { from: 'HELP', button: 'BACK', to: 'MAIN_MENU' },
  { from: 'BALANCE', button: 'TOPUP', to: 'BALANCE' },
  { from: 'BALANCE', button: 'BACK', to: 'MAIN_MENU' },
  { from: 'HISTORY', button: 'HISTORY_PAGE', to: 'HISTORY' },
  // The job's outcome comes again as a new message; the list stays the chat's live screen (RESULT is detached).
  { from: 'HISTORY', button: 'HISTORY_JOB', to: 'RESULT' },
  { from: 'HISTORY', button: 'BACK', to: 'MAIN_MENU' },
  { from: 'RESULT', button: 'REPEAT', to: 'QUEUED' },
  { from: 'QUEUED', button: 'HISTORY', to: 'HISTORY' },
  { from: 'DEBUG', button: 'DEBUG_LIST', to: 'DEBUG' },
  { from: 'DEBUG', button: 'DEBUG_TRACE', to: 'DEBUG' },
  { from: 'DEBUG', button: 'DEBUG_PAGE', to: 'DEBUG' },
  { from: 'QUEUED', button: 'BACK', to: 'MAIN_MENU' },
];

export function transitionTarget(from: ScreenId, button: ButtonId): ScreenId | undefined {
  return TRANSITIONS.find((t) => t.from === from && t.button === button)?.to;
}

const SCREEN_BY_CODE = new Map(Object.entries(SCREEN_CODE).map(([id, code]) => [code, id as ScreenId]));
const BUTTON_BY_CODE = new Map(
  Object.entries(BUTTON).map(([id, def]) => [def.code as string, id as ButtonId]),
);

export function screenByCode(code: string): ScreenId | undefined {
  return SCREEN_BY_CODE.get(code);
}

export function buttonByCode(code: string): ButtonId | undefined {
  return BUTTON_BY_CODE.get(code);
}
