import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ATTR, EVENT, LABEL, METRIC, SPAN } from '../src/telemetry/conventions.js';
import { ALL_OUTCOMES, ALL_REASON_CODES } from '../src/telemetry/reason-codes.js';

/** docs/telemetry.md is the contract: every name the code emits must be documented there. */
const doc = readFileSync(new URL('../docs/telemetry.md', import.meta.url), 'utf8');

describe('docs/telemetry.md documents every name the code emits', () => {
  test.each(Object.values(SPAN))('span name %s', (name) => expect(doc).toContain(`\`${name.trim()}`));
  test.each(Object.values(ATTR))('attribute %s', (key) => expect(doc).toContain(`\`${key}\``));
  test.each(Object.values(METRIC))('metric $name ($promName)', ({ name, promName }) => {
    expect(doc).toContain(`\`${name}\``);
    expect(doc).toContain(`\`${promName}\``);
  });
  test.each(Object.values(LABEL))('metric label %s', (label) => expect(doc).toContain(`\`${label}\``));
  test.each(Object.values(EVENT))('log event %s', (event) => expect(doc).toContain(`\`${event}\``));
  test.each(ALL_REASON_CODES)('reason code %s', (code) =>
    expect(doc).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm')),
  );
  test.each(ALL_OUTCOMES)('outcome %s', (outcome) => expect(doc).toContain(`\`${outcome}\``));
});
