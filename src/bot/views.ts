import type { InlineKeyboard } from 'grammy';
import { CATEGORIES, findModel, type Model, modelsIn } from '../catalogue/models.js';
import { PACKAGES } from '../catalogue/packages.js';
import { jobRef } from '../generation/job-ref.js';
import { modelTitle } from '../generation/result-message.js';
import { type ButtonSpec, buildKeyboard } from '../ui/keyboard.js';
import type { JourneyScreenId } from '../ui/registry.js';
import type { BotContext } from './context.js';

export interface View {
  text: string;
  keyboard: InlineKeyboard;
}

type Render = (ctx: BotContext) => View;

/** Jobs per History page: one button each, so the keyboard stays within a thumb's reach. */
export const HISTORY_PAGE_SIZE = 5;

/** One renderer per screen id; the Record type makes a missing screen a compile error. */
export const VIEWS: Record<JourneyScreenId, Render> = {
  MAIN_MENU: (ctx) => ({
    text: ctx.t('menu-title'),
    keyboard: buildKeyboard('MAIN_MENU', [
      CATEGORIES.map((category) => ({
        button: 'CATEGORY',
        label: ctx.t(`category-${category}`),
        args: [category],
      })),
      [
        { button: 'BALANCE', label: ctx.t('button-balance') },
        { button: 'HISTORY', label: ctx.t('button-history') },
      ],
      [{ button: 'HELP', label: ctx.t('button-help') }],
    ]),
  }),

  CATEGORY_PICK: (ctx) => {
    const category = ctx.session.category ?? 'image';
    return {
      text: ctx.t('category-pick-title', { category: ctx.t(`category-${category}`) }),
      keyboard: buildKeyboard('CATEGORY_PICK', [
        ...modelsIn(category).map((model): ButtonSpec[] => [
          {
            button: 'MODEL',
            label: ctx.t('model-button', { title: model.title, price: model.price }),
            args: [model.id],
          },
        ]),
        backAndCancel(ctx),
      ]),
    };
  },

  MODEL_PICK: (ctx) => {
    const model = currentModel(ctx);
    return {
      text: ctx.t('model-pick-title', {
        title: model.title,
        price: model.price,
        description: ctx.t(`model-${model.id}-description`),
      }),
      keyboard: buildKeyboard('MODEL_PICK', [
        [{ button: 'OPEN_PARAMS', label: ctx.t('button-open-params') }],
        backAndCancel(ctx),
      ]),
    };
  },

  PARAMS_FORM: (ctx) => {
    const model = currentModel(ctx);
    const optionRows = model.options.map((option): ButtonSpec[] =>
      option.values.map((value) => ({
        button: 'OPTION',
        label: `${ctx.session.options[option.name] === value ? '✅ ' : ''}${optionLabel(ctx, option.name, value)}`,
        args: [option.name, value],
      })),
    );
    return {
      text: [
        ctx.t('params-title', { title: model.title }),
        ctx.session.prompt === undefined
          ? ctx.t('params-prompt-missing', { max: model.promptMaxLength })
          : ctx.t('params-prompt', { prompt: ctx.session.prompt }),
        describeOptions(ctx, model),
      ].join('\n\n'),
      keyboard: buildKeyboard('PARAMS_FORM', [
        ...optionRows,
        [{ button: 'PARAMS_DONE', label: ctx.t('button-params-done') }],
        backAndCancel(ctx),
      ]),
    };
  },

  CONFIRM: (ctx) => {
    const model = currentModel(ctx);
    return {
      text: [
        ctx.t('confirm-title', { title: model.title, price: model.price }),
        ctx.t('params-prompt', { prompt: ctx.session.prompt ?? '' }),
        describeOptions(ctx, model),
      ].join('\n\n'),
      keyboard: buildKeyboard('CONFIRM', [
        [{ button: 'GENERATE', label: ctx.t('button-generate', { price: model.price }) }],
        [{ button: 'BALANCE', label: ctx.t('button-top-up') }],
        backAndCancel(ctx),
      ]),
    };
  },

  QUEUED: (ctx) => ({
    text: ctx.t('job-queued', { title: currentModel(ctx).title }),
    keyboard: buildKeyboard('QUEUED', [
      [
        { button: 'HISTORY', label: ctx.t('button-history') },
        { button: 'BACK', label: ctx.t('button-menu') },
      ],
    ]),
  }),

  HELP: (ctx) => ({
    text: ctx.t('help-text'),
    keyboard: buildKeyboard('HELP', [[{ button: 'BACK', label: ctx.t('button-back') }]]),
  }),

  BALANCE: (ctx) => {
    const view = ctx.balanceView;
    if (!view) throw new Error('the Balance screen needs its data loaded by its handler');
    const { available, held } = view.balance;
    return {
      text: [
        view.notice,
        ctx.t('balance-title', { credits: ctx.t('credits', { count: available }) }),
        held > 0 ? ctx.t('balance-held', { credits: ctx.t('credits', { count: held }) }) : undefined,
        ctx.t('balance-topup'),
        view.referralLink === undefined
          ? undefined
          : ctx.t('balance-referral', {
              link: view.referralLink,
              credits: ctx.t('credits', { count: ctx.money.referralBonus }),
            }),
        ctx.t('balance-promo'),
      ]
        .filter((line) => line !== undefined)
        .join('\n\n'),
      keyboard: buildKeyboard('BALANCE', [
        ...PACKAGES.map((pkg): ButtonSpec[] => [
          {
            button: 'TOPUP',
            label: ctx.t('topup-button', {
              stars: pkg.stars,
              credits: ctx.t('credits', { count: pkg.credits }),
            }),
            args: [pkg.id],
          },
        ]),
        [{ button: 'BACK', label: ctx.t('button-back') }],
      ]),
    };
  },

  HISTORY: (ctx) => {
    const view = ctx.historyView;
    if (!view) throw new Error('the History screen needs its data loaded by its handler');
    const first = view.page * HISTORY_PAGE_SIZE + 1;
    const lines = view.entries.map(({ job, refunded }, i) =>
      ctx.t('history-line', {
        n: first + i,
        status: ctx.t(`history-status-${job.state}`),
        title: modelTitle(job),
        price: job.price,
        time: formatTime(job.createdAt, view.locale),
        refunded: refunded ? ctx.t('history-refunded') : '',
      }),
    );
    const pager: ButtonSpec[] = [
      ...(view.page > 0
        ? [{ button: 'HISTORY_PAGE', label: '◀', args: [String(view.page - 1)] } as const]
        : []),
      ...(view.hasNext
        ? [{ button: 'HISTORY_PAGE', label: '▶', args: [String(view.page + 1)] } as const]
        : []),
    ];
    return {
      text:
        lines.length === 0 && view.page === 0
          ? ctx.t('history-empty')
          : [ctx.t('history-title', { page: view.page + 1 }), ...lines].join('\n'),
      keyboard: buildKeyboard('HISTORY', [
        ...view.entries.map(({ job }, i): ButtonSpec[] => [
          {
            button: 'HISTORY_JOB',
            label: ctx.t('history-open', { n: first + i, title: modelTitle(job) }),
            args: [jobRef(job.id)],
          },
        ]),
        pager,
        [{ button: 'BACK', label: ctx.t('button-back') }],
      ]),
    };
  },
};

const TIME_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** "30 Nov, 14:02 UTC" in the user's language; one formatter per locale, made once. */
function formatTime(at: Date, locale: string): string {
  let format = TIME_FORMATS.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, {
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZone: 'UTC',
    });
    TIME_FORMATS.set(locale, format);
  }
  return `${format.format(at)} UTC`;
}

/** Screens past MODEL_PICK are only reachable with a model chosen; the session guarantees it. */
function currentModel(ctx: BotContext): Model {
  const model = findModel(ctx.session.model);
  if (!model) throw new Error('screen needs a chosen model but the session has none');
  return model;
}

function describeOptions(ctx: BotContext, model: Model): string {
  return model.options
    .map((option) => {
      const value = ctx.session.options[option.name] ?? option.default;
      return ctx.t('params-option', {
        name: ctx.t(`option-${option.name}`),
        value: optionLabel(ctx, option.name, value),
      });
    })
    .join('\n');
}

function optionLabel(ctx: BotContext, option: string, value: string): string {
  return ctx.t(`value-${option}-${value}`);
}

/**
 * Every step of the order has both ways out: Back one step, Cancel to the menu. The information screens
 * (Help, Balance, History) have Back only: their Back already is the menu.
 */
function backAndCancel(ctx: BotContext): ButtonSpec[] {
  return [
    { button: 'BACK', label: ctx.t('button-back') },
    { button: 'CANCEL', label: ctx.t('button-cancel') },
  ];
}
