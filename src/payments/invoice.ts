import { findPackage, type TopUpPackage } from '../catalogue/packages.js';

/** Telegram Stars: digital goods are paid in XTR, with an empty provider token and exactly one price. */
export const STARS_CURRENCY = 'XTR';

const PAYLOAD_PREFIX = 'topup';

/**
 * `topup.<package>.<credits>`: what the invoice promised. Telegram hands it back on the pre-checkout query
 * and the successful payment, so the credits paid for are the ones offered, even if the package changes
 * in between. Up to 128 bytes; never personal.
 */
export function invoicePayload(pkg: TopUpPackage): string {
  return `${PAYLOAD_PREFIX}.${pkg.id}.${pkg.credits}`;
}

export interface PayloadTerms {
  packageId: string;
  credits: number;
}

export function parseInvoicePayload(payload: string): PayloadTerms | undefined {
  const match = /^topup\.([a-z0-9_-]{1,24})\.([1-9][0-9]{0,8})$/.exec(payload);
  if (!match?.[1] || !match[2]) return undefined;
  return { packageId: match[1], credits: Number(match[2]) };
}

/** What a pre-checkout query or a successful payment says was paid. */
export interface PaidTerms {
  currency: string;
  total_amount: number;
  invoice_payload: string;
}

export type PaymentVerdict =
  | { ok: true; pkg: TopUpPackage; credits: number }
  | { ok: false; code: 'UNKNOWN_PACKAGE' | 'PAYMENT_MISMATCH'; detail: string };

/**
 * Checks a payment against the packages on offer now: the package exists, and currency, amount and the
 * promised credits are its own. Pure and in memory: pre-checkout must be answered within 10 s.
 */
export function checkPayment(terms: PaidTerms): PaymentVerdict {
  const promised = parseInvoicePayload(terms.invoice_payload);
  if (!promised) return { ok: false, code: 'PAYMENT_MISMATCH', detail: 'payload not ours' };
  const pkg = findPackage(promised.packageId);
  if (!pkg) return { ok: false, code: 'UNKNOWN_PACKAGE', detail: 'package not offered' };
  if (terms.currency !== STARS_CURRENCY) return { ok: false, code: 'PAYMENT_MISMATCH', detail: 'currency' };
  if (terms.total_amount !== pkg.stars) return { ok: false, code: 'PAYMENT_MISMATCH', detail: 'amount' };
  if (promised.credits !== pkg.credits) return { ok: false, code: 'PAYMENT_MISMATCH', detail: 'credits' };
  return { ok: true, pkg, credits: pkg.credits };
}
