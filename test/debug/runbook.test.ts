import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { DOWNSTREAM_STEP, NEXT_STEP } from '../../src/debug/next-steps.js';

/** `npm run diagnose` and /debug quote the runbook's next steps: the page must say the same. */
const runbook = readFileSync(new URL('../../docs/runbook.md', import.meta.url), 'utf8');

test.each(Object.entries({ ...NEXT_STEP, ...DOWNSTREAM_STEP }))(
  'the runbook states the next step for %s',
  (key, step) => {
    expect(runbook).toContain(`| \`${key}\` | ${step} |`);
  },
);
