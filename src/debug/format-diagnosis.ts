import type { Diagnosis } from './diagnosis.js';
import { shortCode } from './support-code.js';

/** One terminal screen: the answer first, the chain below it. */
export function formatDiagnosis(d: Diagnosis, links: readonly string[] = []): string {
  const when = d.startedAt
    ? d.startedAt
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')
    : 'unknown time';
  const rows: Array<[string, string | undefined]> = [
    ['what the user did', `${d.whatUserDid}${d.userPseudonym ? ` · user ${d.userPseudonym}` : ''}`],
    ['outcome', `${d.outcome} · ${d.reasonCode}${d.reasonDetail ? ` (${d.reasonDetail})` : ''}`],
    ['failing stage', d.failingStage ?? '—'],
    ['error', d.errorType || d.errorMessage ? [d.errorType, d.errorMessage].filter(Boolean).join(': ') : '—'],
    ['downstream', d.downstream ?? '—'],
    ['user was told', d.toldUser],
    ['next step', d.nextStep],
  ];
  const out = [
    `support code ${shortCode(d.cid)} · cid ${d.cid} · ${when}${d.durationMs === undefined ? '' : ` · ${Math.round(d.durationMs)} ms`}${d.handler ? ` · handler ${d.handler}` : ''}`,
    '',
    ...rows.map(([label, value]) => `${label.padEnd(18)} ${value}`),
    '',
    'chain',
    ...d.chain.map(formatStep),
  ];
  if (d.laterSteps.length > 0) out.push('', 'later under the same cid', ...d.laterSteps.map(formatStep));
  if (links.length > 0) out.push('', ...links);
  return out.join('\n');
}

function formatStep(step: Diagnosis['chain'][number]): string {
  const offset = `+${Math.round(step.offsetMs)} ms`.padStart(10);
  const duration =
    `${step.durationMs < 1 ? step.durationMs.toFixed(1) : Math.round(step.durationMs)} ms`.padStart(8);
  return `${offset} ${duration} ${step.failed ? '✗' : ' '} ${'  '.repeat(step.depth)}${step.name}  ${step.result}`;
}
