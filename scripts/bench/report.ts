import type { BenchReport } from './run.js';

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** The figures as Markdown: the table docs/benchmarks.md keeps, the ratios, and the profile summaries. */
export function formatReport(report: BenchReport): string {
  const { machine, options } = report;
  const lines = [
    `Run ${report.startedAt}: ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}; ` +
      `load average ${machine.loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ` +
      `${machine.loadAfter.map((l) => l.toFixed(2)).join(' ')} after.`,
    `${options.rounds} alternating rounds × ${options.roundMs / 1000} s per bot process, ${options.processes} process(es) per setup ` +
      `(after ${options.warmupMs / 1000} s of warm-up each, taken in turns), ` +
      `${options.chats} chats, ${options.concurrency} webhook deliveries in flight.`,
    '',
    '| setup | store | updates/s | p50 ms | p99 ms | CPU µs/update | of which kernel | RSS MiB | heap MiB | spans/update | OTLP logs/update | stdout lines/update |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.setups.map((s) =>
      [
        '',
        `${s.setup.name} (${s.setup.description})`,
        s.setup.store,
        fixed(s.updatesPerSecond),
        fixed(s.p50Ms, 1),
        fixed(s.p99Ms, 1),
        fixed(s.cpuMicrosPerUpdate),
        fixed(s.kernelMicrosPerUpdate),
        fixed(s.rssMiB),
        fixed(s.heapUsedMiB),
        fixed(s.spansPerUpdate, 2),
        fixed(s.otlpLogRecordsPerUpdate, 2),
        fixed(s.stdoutLinesPerUpdate, 2),
        '',
      ]
        .join(' | ')
        .trim(),
    ),
    '',
    '| ratio (median of per-round ratios) | throughput | CPU per update | CPU µs added per update | CPU ratio per round, lowest–highest | rounds with less CPU |',
    '|---|---:|---:|---:|---:|---:|',
    ...report.ratios.map(
      (r) =>
        `| ${r.name} | ${fixed(r.throughputRatio, 2)} | ${fixed(r.cpuRatio, 2)} | ${fixed(r.cpuDeltaMicros)} | ` +
        `${fixed(r.cpuRatioLowest, 2)}–${fixed(r.cpuRatioHighest, 2)} | ${r.roundsLower} of ${r.roundsPaired} |`,
    ),
    '',
  ];
  if (report.sdkDisabledTookEffect !== undefined) {
    const disabled = report.setups.find((s) => s.setup.telemetry === 'disabled');
    lines.push(
      report.sdkDisabledTookEffect
        ? 'OTEL_SDK_DISABLED=true took effect: the receiver got no spans from that bot.'
        : `OTEL_SDK_DISABLED=true did NOT take effect: that bot still exported ${fixed(disabled?.spansPerUpdate ?? Number.NaN, 2)} spans per update.`,
      '',
    );
  }
  const failed = report.setups.filter((s) => s.failed > 0);
  if (failed.length) {
    lines.push(
      `Failed webhook deliveries (non-200; the round lines say how each was answered): ${failed.map((s) => `${s.setup.name} ${s.failed}`).join(', ')}.`,
      '',
    );
  }
  lines.push(
    `Load generator, fake Bot API and OTLP receiver (one process): ` +
      report.setups.map((s) => `${s.setup.name} ${fixed(s.driverCpuMicrosPerUpdate)} µs`).join(', ') +
      ' of CPU per update.',
    '',
  );
  for (const s of report.setups) {
    if (!s.profile) continue;
    lines.push(
      `Profile of ${s.setup.name} (${fixed(s.profile.busyMs)} ms busy), self time by where the code lives:`,
      '',
      ...s.profile.byPackage.map((p) => `- ${(p.share * 100).toFixed(1)}% ${p.name}`),
      '',
      'Top functions by self time:',
      '',
      ...s.profile.byFunction.map((p) => `- ${(p.share * 100).toFixed(1)}% ${p.name}`),
      '',
    );
  }
  return lines.join('\n');
}
