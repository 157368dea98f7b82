import { setTimeout as sleep } from 'node:timers/promises';
import { GrammyError } from 'grammy';
import { findPackage } from '../../catalogue/packages.js';
import { classifyError } from '../../error-classifier.js';
import { describeError, TracegramError } from '../../errors.js';
import { checkPayment, invoicePayload, parseInvoicePayload, STARS_CURRENCY } from '../../payments/invoice.js';
import { type CreditResult, normalisePromoCode, type PaymentInput } from '../../store/index.js';
import { ATTR, EVENT } from '../../telemetry/conventions.js';
import { forbidden, isAdmin } from '../admin-gate.js';
import { Feature } from '../buttons.js';
import type { BotContext } from '../context.js';
import { reject, success } from '../outcome.js';
import { showScreen } from '../screen.js';

/**
 * Money: the Balance screen, top-ups in Telegram Stars (invoice → pre-checkout → successful payment),
 * /paysupport, promo codes, and the admins' refunds and promo codes. Credits move only through the ledger.
 */
export const payments = new Feature('payments');

payments.button('BALANCE', async (ctx) => {
  await drawBalance(ctx, 'edit');
  return success;
});

payments.button('TOPUP', async (ctx, action) => {
  const pkg = findPackage(action.args.package);
  if (!pkg) return reject('UNKNOWN_PACKAGE', 'package not offered', ctx.t('reply-unknown-package'));
  const credits = ctx.t('credits', { count: pkg.credits });
  await ctx.replyWithInvoice(
    credits,
    ctx.t('invoice-description', { credits }),
    invoicePayload(pkg),
    STARS_CURRENCY,
    [{ label: credits, amount: pkg.stars }],
    // Stars need no payment provider: Telegram requires the token to be empty.
    { provider_token: '' },
  );
  await drawBalance(ctx, 'edit', ctx.t('invoice-sent', { stars: pkg.stars, credits }));
  return success;
});

// Telegram waits at most 10 s for this answer; everything checked here is in memory but the blocked flag.
payments.handle(
  'pre_checkout_query',
  EVENT.PRE_CHECKOUT_RECEIVED,
  async (ctx) => {
    const query = ctx.preCheckoutQuery;
    const verdict = checkPayment(query);
    if (!verdict.ok) return reject(verdict.code, verdict.detail);
    if (await ctx.money.users.isBlocked(query.from.id)) return reject('USER_BLOCKED', 'user is blocked');
    await ctx.answerPreCheckoutQuery(true);
    return success;
  },
  (ctx) => paymentAttributes(ctx.preCheckoutQuery),
);

payments.handle(
  'message:successful_payment',
  EVENT.PAYMENT_RECEIVED,
  async (ctx) => {
    const paid = ctx.message.successful_payment;
    const terms = parseInvoicePayload(paid.invoice_payload);
    if (!terms || paid.currency !== STARS_CURRENCY) {
      // Telegram took money for an invoice we did not make: only a person can sort this out.
      throw new TracegramError('PAYMENT_UNMATCHED', 'payment for an unknown invoice', {
        detail: 'payload or currency not ours',
      });
    }
    // Credited as promised by the invoice the user paid (pre-checkout checked it against the offer).
    const result = await creditRetried(ctx, {
      telegramPaymentChargeId: paid.telegram_payment_charge_id,
      userId: ctx.from.id,
      packageId: terms.packageId,
      currency: paid.currency,
      stars: paid.total_amount,
      credits: terms.credits,
      invoicePayload: paid.invoice_payload,
      cid: ctx.telemetry.traceId,
    }).catch((error: unknown) => {
      // Telegram will not deliver this payment again: whoever answers the alert needs the charge id.
      ctx.log.error(
        {
          event: EVENT.PAYMENT_CREDIT_FAILED,
          telegram_payment_charge_id: paid.telegram_payment_charge_id,
          package: terms.packageId,
          stars: paid.total_amount,
        },
        'payment taken but not credited',
      );
      throw error;
    });
    if (result.status === 'duplicate') {
      // The first delivery thanked the user already; saying it twice would look like two payments.
      return reject('DUPLICATE_PAYMENT', 'payment already credited');
    }
    ctx.log.info(
      {
        event: EVENT.PAYMENT_CREDITED,
        payment_id: result.payment.id,
        package: terms.packageId,
        stars: paid.total_amount,
        credits: terms.credits,
      },
      'payment credited',
    );
    const notice = ctx.t('payment-received', { credits: ctx.t('credits', { count: terms.credits }) });
    await drawBalance(ctx, 'send', notice);
    return success;
  },
  (ctx) => paymentAttributes(ctx.message.successful_payment),
);

payments.onCommand('paysupport', async (ctx) => {
  await ctx.reply(ctx.t('paysupport-text'));
  return success;
});

payments.onCommand('promo', async (ctx) => {
  const code = normalisePromoCode(String(ctx.match ?? ''));
  if (code === '') return reject('VALIDATION_FAILED', 'promo code missing', ctx.t('promo-usage'));
  const result = await ctx.money.promoCodes.redeem({
    code,
    userId: ctx.from?.id ?? 0,
    cid: ctx.telemetry.traceId,
  });
  switch (result.status) {
    case 'redeemed':
      ctx.log.info({ event: EVENT.PROMO_REDEEMED, credits: result.credits }, 'promo code redeemed');
      await ctx.reply(
        ctx.t('promo-redeemed', {
          credits: ctx.t('credits', { count: result.credits }),
          balance: ctx.t('credits', { count: result.balance.available }),
        }),
      );
      return success;
    case 'unknown':
      return reject('PROMO_UNKNOWN', 'no such promo code');
    case 'expired':
      return reject('PROMO_EXPIRED', 'promo code expired');
    case 'exhausted':
      return reject('PROMO_EXHAUSTED', 'promo code used up');
    case 'already_used':
      return reject('PROMO_ALREADY_USED', 'promo code already redeemed by this user');
  }
});

/** `/refund <telegram_payment_charge_id>`: admins give a payment's Stars back and take its credits. */
payments.onCommand('refund', async (ctx) => {
  if (!isAdmin(ctx)) return forbidden(ctx);
  const chargeId = String(ctx.match ?? '').trim();
  if (chargeId === '') return reject('VALIDATION_FAILED', 'charge id missing', ctx.t('refund-usage'));
  const cid = ctx.telemetry.traceId;
  // Telegram is asked inside the transaction: if it refuses, nothing is recorded.
  const result = await ctx.money.db.transaction(async (tx) => {
    const refund = await ctx.money.ledger.refundStars({ telegramPaymentChargeId: chargeId, cid }, tx);
    if (refund.status === 'refunded') {
      await ctx.api.refundStarPayment(refund.payment.userId, chargeId).catch(alreadyRefundedIsDone);
    }
    return refund;
  });
  switch (result.status) {
    case 'refunded':
      ctx.log.info(
        {
          event: EVENT.STARS_REFUNDED,
          payment_id: result.payment.id,
          stars: result.payment.stars,
          credits: result.payment.credits,
        },
        'stars refunded',
      );
      await ctx.reply(
        ctx.t('refund-done', {
          stars: result.payment.stars,
          credits: ctx.t('credits', { count: result.payment.credits }),
        }),
      );
      return success;
    case 'unknown_payment':
      return reject('REFUND_REFUSED', 'unknown payment', ctx.t('refund-unknown'));
    case 'already_refunded':
      return reject('REFUND_REFUSED', 'already refunded', ctx.t('refund-already'));
    case 'insufficient':
      return reject(
        'REFUND_REFUSED',
        'credits already spent',
        ctx.t('refund-spent', {
          credits: ctx.t('credits', { count: result.payment.credits }),
          balance: ctx.t('credits', { count: result.balance.available }),
        }),
      );
  }
});

/** `/newpromo CODE CREDITS USES [DAYS]`: admins make (or change) a promo code. */
payments.onCommand('newpromo', async (ctx) => {
  if (!isAdmin(ctx)) return forbidden(ctx);
  const [rawCode = '', credits, uses, days] = String(ctx.match ?? '')
    .trim()
    .split(/\s+/);
  const code = normalisePromoCode(rawCode);
  const numbers = [credits, uses, days].map((n) => (n === undefined ? undefined : Number(n)));
  const [creditCount, maxUses, validDays] = numbers;
  const whole = (n: number | undefined) => n !== undefined && Number.isSafeInteger(n) && n > 0;
  if (
    !/^[A-Z0-9_-]{3,32}$/.test(code) ||
    !whole(creditCount) ||
    !whole(maxUses) ||
    (validDays !== undefined && !whole(validDays))
  ) {
    return reject('VALIDATION_FAILED', 'promo terms invalid', ctx.t('newpromo-usage'));
  }
  const expiresAt = validDays === undefined ? undefined : new Date(Date.now() + validDays * 86_400_000);
  await ctx.money.promoCodes.upsert({
    code,
    credits: creditCount as number,
    maxUses: maxUses as number,
    expiresAt,
  });
  await ctx.reply(ctx.t('newpromo-done', { code, credits: creditCount as number, uses: maxUses as number }));
  return success;
});

/** Loads what the Balance screen shows, then draws it. */
async function drawBalance(ctx: BotContext, how: 'edit' | 'send', notice?: string): Promise<void> {
  const userId = ctx.from?.id ?? 0;
  const [balance, code] = await Promise.all([
    ctx.money.ledger.balance(userId),
    ctx.money.referralBonus > 0 ? ctx.money.users.referralCode(userId) : Promise.resolve(undefined),
  ]);
  const username = ctx.me.username;
  ctx.balanceView = {
    balance,
    referralLink: code === undefined ? undefined : `https://t.me/${username}?start=ref_${code}`,
    notice,
  };
  await showScreen(ctx, 'BALANCE', how);
}

/**
 * Waits between attempts to credit a payment whose store call failed. Telegram delivers successful_payment
 * once, so a store blip (a failover, a dropped connection) must not cost the user their credits; the
 * charge id makes a retry safe (a credit that did commit is found as a duplicate). ~4 s in all: within
 * Telegram's webhook patience, and short enough that a dead store reaches the alert soon.
 */
const CREDIT_RETRY_DELAYS_MS = [250, 1000, 3000];

async function creditRetried(ctx: BotContext, payment: PaymentInput): Promise<CreditResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.money.ledger.creditPayment(payment);
    } catch (error) {
      const delayMs = CREDIT_RETRY_DELAYS_MS[attempt - 1];
      if (delayMs === undefined || classifyError(error).reasonCode !== 'DB_ERROR') throw error;
      ctx.log.warn(
        { event: EVENT.PAYMENT_CREDIT_RETRY, attempt, delay_ms: delayMs, detail: describeError(error) },
        'payment credit failed in the store: retrying',
      );
      await sleep(delayMs);
    }
  }
}

function paymentAttributes(terms: { invoice_payload: string; total_amount: number }) {
  const packageId = parseInvoicePayload(terms.invoice_payload)?.packageId ?? 'unknown';
  return { [ATTR.PAYMENT_PACKAGE]: packageId, [ATTR.PAYMENT_STARS]: terms.total_amount };
}

/**
 * Telegram says CHARGE_ALREADY_REFUNDED when an earlier attempt refunded the Stars but its transaction did
 * not commit: the refund happened, so recording it now is right.
 */
function alreadyRefundedIsDone(error: unknown): void {
  if (error instanceof GrammyError && error.description.includes('CHARGE_ALREADY_REFUNDED')) return;
  throw error;
}
