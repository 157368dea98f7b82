import { describe, expect, test } from 'vitest';
import { createPseudonymizer } from '../src/telemetry/pseudonym.js';

describe('user pseudonyms', () => {
  test('are stable across releases and calls: yesterday’s traces are found with today’s value', () => {
    const pseudonymize = createPseudonymizer('123456:stand-in-token');
    // Pinned: Tempo holds traces tagged with these values; a change would orphan them.
    expect(pseudonymize(42)).toBe('u_ziYjvjl06ELsPGQr');
    expect(pseudonymize(1_000_001)).toBe('u_iJA9k6t3c5f15iKg');
    expect(pseudonymize(42)).toBe('u_ziYjvjl06ELsPGQr');
  });

  test('depend on the bot token and never contain the id', () => {
    const a = createPseudonymizer('123456:token-a')(777_000);
    const b = createPseudonymizer('123456:token-b')(777_000);
    expect(a).not.toBe(b);
    expect(a).not.toContain('777000');
    expect(a).toMatch(/^u_[\w-]{16}$/);
  });
});
