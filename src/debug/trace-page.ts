import type { Diagnosis } from './diagnosis.js';
import { shortCode } from './support-code.js';
import type { AttributeValue, SpanView, TraceView } from './trace-view.js';

/**
 * The trace page: one self-contained HTML document (inline CSS, no script, no external asset) with the
 * span waterfall to scale, each span's attributes, status and events, and the update's log lines.
 * Built for a phone: one column, bars under the names, details folded.
 */

export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#6a737d;--bg:#fff;--row:#f6f8fa;--bar:#3b82f6;--err:#d73a49;--ok:#22863a}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8b949e;--bg:#0d1117;--row:#161b22}}
*{box-sizing:border-box}body{margin:0;padding:12px;font:14px/1.4 system-ui,-apple-system,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:18px;margin:0 0 4px}h2{font-size:16px;margin:18px 0 6px}code,.mono{font-family:ui-monospace,Menlo,monospace;font-size:12px;word-break:break-all}
.muted{color:var(--muted)}.err{color:var(--err)}.ok{color:var(--ok)}
dl.summary{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:8px 0}dl.summary dt{color:var(--muted)}dl.summary dd{margin:0}
.span{background:var(--row);border-radius:6px;margin:4px 0;padding:6px 8px}
.span summary{cursor:pointer;list-style:none}.span summary::-webkit-details-marker{display:none}
.name{font-weight:600}.dur{float:right;color:var(--muted)}
.track{position:relative;height:8px;margin-top:4px;background:rgba(127,127,127,.15);border-radius:4px}
.bar{position:absolute;top:0;height:8px;min-width:2px;border-radius:4px;background:var(--bar)}.bar.error{background:var(--err)}
table{border-collapse:collapse;width:100%;margin-top:6px}td{vertical-align:top;padding:2px 4px;border-top:1px solid rgba(127,127,127,.2)}td:first-child{color:var(--muted);white-space:nowrap}
.log{border-left:3px solid var(--bar);padding:4px 8px;margin:4px 0;background:var(--row)}.log.error,.log.fatal{border-color:var(--err)}.log.warn{border-color:#e3b341}
`;

export interface TracePageOptions {
  diagnosis?: Diagnosis;
  /** Extra links (Grafana Explore), shown under the summary. */
  links?: ReadonlyArray<{ label: string; href: string }>;
}

export function renderTracePage(trace: TraceView, options: TracePageOptions = {}): string {
  const start = Math.min(...trace.spans.map((span) => span.startMs), ...trace.logs.map((log) => log.timeMs));
  const end = Math.max(
    ...trace.spans.map((span) => span.startMs + span.durationMs),
    ...trace.logs.map((log) => log.timeMs),
  );
  const total = Math.max(end - start, 0.001);
  const depth = depthOf(trace.spans);
  const d = options.diagnosis;
  const summary = d
    ? `<dl class="summary">
<dt>user did</dt><dd>${escapeHtml(d.whatUserDid)}</dd>
<dt>outcome</dt><dd class="${d.failed ? 'err' : 'ok'}">${escapeHtml(d.outcome)} · <b>${escapeHtml(d.reasonCode)}</b>${d.reasonDetail ? ` (${escapeHtml(d.reasonDetail)})` : ''}</dd>
<dt>failing stage</dt><dd>${escapeHtml(d.failingStage ?? '—')}</dd>
<dt>error</dt><dd>${escapeHtml([d.errorType, d.errorMessage].filter(Boolean).join(': ') || '—')}</dd>
<dt>downstream</dt><dd>${escapeHtml(d.downstream ?? '—')}</dd>
<dt>user was told</dt><dd>${escapeHtml(d.toldUser)}</dd>
<dt>next step</dt><dd>${escapeHtml(d.nextStep)}</dd>
</dl>`
    : '';
  const links = (options.links ?? [])
    .map((link) => `<a href="${escapeHtml(link.href)}" rel="noreferrer">${escapeHtml(link.label)}</a>`)
    .join(' · ');
  const spans = trace.spans
    .map((span) => {
      const left = ((span.startMs - start) / total) * 100;
      const width = (span.durationMs / total) * 100;
      const indent = Math.min(depth(span), 8) * 10;
      return `<details class="span" style="margin-left:${indent}px"><summary><span class="name${span.status === 'error' ? ' err' : ''}">${escapeHtml(span.name)}</span><span class="dur">${formatMs(span.durationMs)}</span>
<div class="track"><div class="bar${span.status === 'error' ? ' error' : ''}" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%"></div></div></summary>
${spanDetails(span, start)}</details>`;
    })
    .join('\n');
  const logs = trace.logs
    .map(
      (
        log,
      ) => `<div class="log ${escapeHtml(log.level)}"><span class="muted mono">+${formatMs(log.timeMs - start)}</span> <b>${escapeHtml(log.event ?? log.level)}</b> ${escapeHtml(log.message)}
${
  Object.keys(log.fields).length > 0
    ? `<div class="mono muted">${Object.entries(log.fields)
        .map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(v)}`)
        .join(' ')}</div>`
    : ''
}</div>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">
<title>Trace ${escapeHtml(shortCode(trace.traceId))}</title><style>${CSS}</style></head>
<body>
<h1>Support code <code>${escapeHtml(shortCode(trace.traceId))}</code></h1>
<div class="muted mono">cid ${escapeHtml(trace.traceId)} · ${trace.spans.length} spans · ${formatMs(total)}${Number.isFinite(start) ? ` · ${escapeHtml(new Date(start).toISOString())}` : ''}</div>
${summary}${links ? `<p>${links}</p>` : ''}
<h2>Spans</h2>
${spans || '<p class="muted">No spans kept for this trace.</p>'}
<h2>Log lines</h2>
${logs || '<p class="muted">No log lines kept for this trace.</p>'}
</body></html>`;
}

function spanDetails(span: SpanView, traceStart: number): string {
  const rows: Array<[string, AttributeValue]> = [
    ['kind', span.kind],
    ['status', span.statusMessage ? `${span.status}: ${span.statusMessage}` : span.status],
    ['start', `+${formatMs(span.startMs - traceStart)}`],
    ...Object.entries(span.attributes).sort(([a], [b]) => a.localeCompare(b)),
  ];
  const table = `<table>${rows.map(([key, value]) => `<tr><td>${escapeHtml(key)}</td><td class="mono">${escapeHtml(value)}</td></tr>`).join('')}</table>`;
  const events = span.events
    .map(
      (event) =>
        `<div class="log error"><b>${escapeHtml(event.name)}</b> <span class="muted">+${formatMs(event.timeMs - traceStart)}</span><table>${Object.entries(
          event.attributes,
        )
          .map(
            ([key, value]) =>
              `<tr><td>${escapeHtml(key)}</td><td class="mono">${escapeHtml(value)}</td></tr>`,
          )
          .join('')}</table></div>`,
    )
    .join('');
  return table + events;
}

function depthOf(spans: readonly SpanView[]): (span: SpanView) => number {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  return (span) => {
    let depth = 0;
    for (let p = span.parentSpanId; p && depth < 32; p = byId.get(p)?.parentSpanId) {
      if (!byId.has(p)) break;
      depth += 1;
    }
    return depth;
  };
}

function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms < 10 ? ms.toFixed(2) : Math.round(ms)} ms`;
}
