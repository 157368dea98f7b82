/**
 * Top-up packages: what a number of Telegram Stars buys in credits (the unit model prices are in).
 * Ids travel in callback data and invoice payloads: never reuse one for different terms.
 */
export interface TopUpPackage {
  id: string;
  /** The invoice's one price item, in Stars (currency XTR, whole units). */
  stars: number;
  credits: number;
}

export const PACKAGES: readonly TopUpPackage[] = [
  { id: 's50', stars: 50, credits: 50 },
  { id: 's150', stars: 150, credits: 165 },
  { id: 's500', stars: 500, credits: 600 },
];

export function findPackage(id: string | undefined): TopUpPackage | undefined {
  return PACKAGES.find((pkg) => pkg.id === id);
}
