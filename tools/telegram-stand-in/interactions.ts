import { randomUUID } from 'node:crypto';
import type { LabeledPrice } from 'grammy/types';
import { BotApiError, badRequest, DESCRIPTION, missingParameter } from './errors.js';
import { inlineKeyboardOf } from './markup.js';
import type { MethodTable } from './methods.js';
import type { CallbackAnswer, World } from './world.js';

/**
 * The bot's side of the user's taps and payments: answering callback and pre-checkout queries, sending
 * invoices, refunding Stars.
 */
export function interactionMethods(world: World): MethodTable {
  return {
    answerCallbackQuery: (p) => {
      // An absent id reaches Telegram as an invalid one, hence the same answer.
      const answer: CallbackAnswer = {
        callback_query_id: p.requiredString(
          'callback_query_id',
          new BotApiError(400, DESCRIPTION.queryTooOld),
        ),
      };
      const text = p.string('text');
      const showAlert = p.bool('show_alert');
      const url = p.string('url');
      const cacheTime = p.int('cache_time');
      if (text !== undefined) answer.text = text;
      if (showAlert !== undefined) answer.show_alert = showAlert;
      if (url !== undefined) answer.url = url;
      if (cacheTime !== undefined) answer.cache_time = cacheTime;
      world.answerCallbackQuery(answer);
      return true;
    },

    sendInvoice: (p) => {
      const chatId = p.chatId();
      const title = p.requiredString('title');
      const description = p.requiredString('description');
      const payload = p.requiredString('payload');
      const currency = p.requiredString('currency');
      const prices = p.object<LabeledPrice[]>('prices');
      if (prices === undefined) throw missingParameter('prices');
      if (
        !Array.isArray(prices) ||
        prices.length === 0 ||
        !prices.every((price) => Number.isInteger(price?.amount))
      ) {
        throw badRequest("can't parse prices JSON object");
      }
      // Digital goods are sold in Stars: no payment provider, one price (Telegram refuses otherwise).
      if (currency === 'XTR') {
        if ((p.string('provider_token') ?? '') !== '')
          throw new BotApiError(400, DESCRIPTION.starsProviderToken);
        if (prices.length !== 1) throw new BotApiError(400, DESCRIPTION.starsOnePrice);
      }
      const keyboard = inlineKeyboardOf(p.values.reply_markup);
      world.writableChat(chatId);
      const totalAmount = prices.reduce((sum, price) => sum + price.amount, 0);
      const message = world.addMessage(chatId, {
        invoice: {
          title,
          description,
          start_parameter: p.string('start_parameter') ?? '',
          currency,
          total_amount: totalAmount,
        },
        reply_markup: keyboard,
      });
      world.rememberInvoice(message, { currency, total_amount: totalAmount, invoice_payload: payload });
      return message;
    },

    answerPreCheckoutQuery: (p) => {
      const id = p.requiredString('pre_checkout_query_id', new BotApiError(400, DESCRIPTION.queryTooOld));
      const ok = p.bool('ok');
      if (ok === undefined) throw missingParameter('ok');
      if (!ok && !p.has('error_message')) throw missingParameter('error_message');
      const query = world.answerPreCheckoutQuery(id);
      if (ok) {
        // Telegram charges the user and tells the bot with a service message from them.
        // Unique across stand-ins too, as Telegram's are: a database outlives one test run.
        const chargeId = `stand-in-charge-${randomUUID()}`;
        const message = world.addMessage(query.from.id, {
          from: query.from,
          successful_payment: {
            currency: query.currency,
            total_amount: query.total_amount,
            invoice_payload: query.invoice_payload,
            telegram_payment_charge_id: chargeId,
            provider_payment_charge_id: `stand-in-provider-${query.id}`,
          },
        });
        world.recordStarPayment({
          userId: query.from.id,
          telegramPaymentChargeId: chargeId,
          totalAmount: query.total_amount,
        });
        world.queueUpdate({ message });
      }
      return true;
    },

    refundStarPayment: (p) => {
      const userId = p.int('user_id');
      if (userId === undefined) throw missingParameter('user_id');
      const chargeId = p.requiredString('telegram_payment_charge_id');
      world.refundStarPayment(userId, chargeId);
      return true;
    },
  };
}
