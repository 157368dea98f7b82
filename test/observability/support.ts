/**
 * Shared helpers for the observability checks: file access, the lezer parsers, and the inventory of every
 * PromQL, LogQL and TraceQL expression the stack ships (dashboards, alerts, datasources, links).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { parser as traceqlParser } from '@grafana/lezer-traceql';
import type { LRParser } from '@lezer/lr';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { OUTPUT_PATH } from '../../grafana/as-code/outputs.js';
import { GRAFANA_ENV, grafanaVar } from '../../grafana/as-code/provisioning.js';
import { GRAFANA_DATASOURCE, traceLogsQuery, traceUrl } from '../../src/telemetry/grafana.js';
import { SCREEN } from '../../src/ui/registry.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function repoPath(path: string): string {
  return join(ROOT, path);
}

export function readText(path: string): string {
  return readFileSync(repoPath(path), 'utf8');
}

export function readYaml<T = unknown>(path: string): T {
  return parseYaml(readText(path)) as T;
}

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readText(path)) as T;
}

/**
 * Grafana's env interpolation of one provisioning value (pkg/services/provisioning/values, interpolateValue):
 * split on `$$`, expand `$NAME` and `${NAME}` in each part as Go's os.Expand does, join the parts with `$`.
 * `lookup` answers each name; by default a compose-passed variable reads back as `${NAME}` (so checks can
 * see which one) and any other name as Grafana's unset value, the empty string.
 */
export function grafanaInterpolate(
  text: string,
  lookup: (name: string) => string = (name) =>
    (Object.values(GRAFANA_ENV) as string[]).includes(name) ? `\${${name}}` : '',
): string {
  return text
    .split('$$')
    .map((part) =>
      part.replace(
        /\$(?:\{([^}]*)\}|([*#$@!?\-0-9])|([A-Za-z0-9_]+))/g,
        (_match, braced?: string, special?: string, plain?: string) =>
          lookup(braced ?? special ?? plain ?? ''),
      ),
    )
    .join('$');
}

function interpolateDeep<T>(value: T, lookup?: (name: string) => string): T {
  if (typeof value === 'string') return grafanaInterpolate(value, lookup) as T;
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, lookup)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, lookup)])) as T;
  }
  return value;
}

/** Fields of an alert rule Grafana stores as written (rules_types.go: `Annotations.Raw`, `Model.Raw`). */
const RAW_RULE_FIELDS = new Set(['annotations']);

/**
 * A provisioning file as Grafana reads it: every value interpolated, except alert rules' annotations and
 * query models, which Grafana takes as written. `lookup` as for grafanaInterpolate.
 */
export function readProvisioningAsGrafana<T>(path: string, lookup?: (name: string) => string): T {
  const file = readYaml<Record<string, unknown>>(path);
  const groups = file.groups as { rules?: Record<string, unknown>[] }[] | undefined;
  if (groups === undefined) return interpolateDeep(file, lookup) as T;
  const read = interpolateDeep({ ...file, groups: [] }, lookup);
  return {
    ...read,
    groups: groups.map((group) => ({
      ...interpolateDeep({ ...group, rules: [] }, lookup),
      rules: (group.rules ?? []).map((rule) =>
        Object.fromEntries(
          Object.entries(rule).map(([key, value]) => {
            if (RAW_RULE_FIELDS.has(key)) return [key, value];
            if (key === 'data') {
              return [
                key,
                (value as Record<string, unknown>[]).map((query) => ({
                  ...interpolateDeep({ ...query, model: undefined }, lookup),
                  model: query.model,
                })),
              ];
            }
            return [key, interpolateDeep(value, lookup)];
          }),
        ),
      ),
    })),
  } as T;
}

// ---------------------------------------------------------------------------------------------------------
// Required tools: the checks fail (never skip) when Debian's prometheus package is missing.

export function requireTool(name: 'promtool' | 'prometheus'): string {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(
    `${name} is not installed. Install Debian's prometheus package (listed in .ci/apt-packages.txt): ` +
      'apt-get update && apt-get install -y prometheus',
  );
}

export function run(command: string, args: string[]): { code: number; output: string } {
  try {
    const output = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, output };
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    return { code: e.status ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

export type Lang = 'promql' | 'logql' | 'traceql';

const PARSERS: Record<Lang, LRParser> = { promql: promqlParser, logql: logqlParser, traceql: traceqlParser };

export interface Node {
  name: string;
  text: string;
  error: boolean;
  from: number;
  to: number;
}

/** Every node of the syntax tree, in document order. */
export function syntaxNodes(lang: Lang, expr: string): Node[] {
  const nodes: Node[] = [];
  PARSERS[lang].parse(expr).iterate({
    enter(node) {
      nodes.push({
        name: node.name,
        text: expr.slice(node.from, node.to),
        error: node.type.isError,
        from: node.from,
        to: node.to,
      });
    },
  });
  return nodes;
}

export function syntaxErrors(lang: Lang, expr: string): string[] {
  return syntaxNodes(lang, expr)
    .filter((n) => n.error)
    .map((n) => `error node at ${n.from}: "${expr.slice(Math.max(0, n.from - 20), n.to + 20)}"`);
}

/** Sample values for Grafana's template variables, so templated expressions parse as they will in Grafana. */
export const SAMPLE_LABEL_VALUE: Record<string, string> = {
  outcome: 'error',
  reason_code: 'INTERNAL_ERROR',
  handler: 'menu',
  method: 'sendMessage',
  screen_id: SCREEN.CONFIRM,
  update_type: 'message',
  error_code: 'network',
};
export const SAMPLE_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

export function renderTemplate(expr: string, lang: Lang): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__range', '1h')
    .replaceAll('$__interval', '1m')
    .replaceAll('$service', 'tracegram')
    .replaceAll(grafanaVar('__tags'), 'service_name="tracegram"')
    .replaceAll('$__tags', lang === 'promql' ? 'handler="menu"' : 'service_name="tracegram"')
    .replaceAll(grafanaVar('__span.traceId'), SAMPLE_TRACE_ID)
    .replaceAll(grafanaVar('__value.raw'), SAMPLE_TRACE_ID)
    .replaceAll(/\$\{__field\.labels\.([a-z_]+)\}/g, (_, label: string) => SAMPLE_LABEL_VALUE[label] ?? 'x');
}

// ---------------------------------------------------------------------------------------------------------
// The inventory of expressions

export interface Expression {
  where: string;
  lang: Lang;
  /** As written (with Grafana template variables). */
  raw: string;
  /** With template variables replaced by sample values: what the parsers and cross-checks read. */
  expr: string;
  /** legendFormat, when a dashboard target has one. */
  legend?: string;
}

const DS_LANG: Record<string, Lang> = {
  [GRAFANA_DATASOURCE.PROMETHEUS.uid]: 'promql',
  [GRAFANA_DATASOURCE.LOKI.uid]: 'logql',
  [GRAFANA_DATASOURCE.TEMPO.uid]: 'traceql',
};

function add(list: Expression[], where: string, lang: Lang, raw: string, legend?: string) {
  list.push({ where, lang, raw, expr: renderTemplate(raw, lang), ...(legend ? { legend } : {}) });
}

interface ExploreQuery {
  datasource: { uid: string };
  expr?: string;
  query?: string;
}

/** Decodes the `panes` parameter of an Explore URL, with data-link variables replaced by sample values. */
export function explorePanes(url: string): { datasource: string; queries: ExploreQuery[] }[] {
  const match = /[?&]panes=([^&]*)/.exec(url);
  if (!match) throw new Error(`not an Explore URL: ${url}`);
  const encoded = (match[1] as string)
    .replaceAll(grafanaVar('__from'), '0')
    .replaceAll(grafanaVar('__to'), '1')
    .replaceAll(grafanaVar('service'), 'tracegram')
    .replaceAll(/\$\{__field\.labels\.([a-z_]+)\}/g, (_, label: string) => SAMPLE_LABEL_VALUE[label] ?? 'x');
  return Object.values(JSON.parse(decodeURIComponent(encoded)) as Record<string, never>);
}

const TRACE_ID = /^[0-9a-f]{32}$/;

function addExploreUrl(list: Expression[], where: string, url: string) {
  for (const pane of explorePanes(url)) {
    for (const q of pane.queries) {
      const lang = DS_LANG[q.datasource.uid];
      if (lang === undefined) throw new Error(`${where}: link to unknown datasource ${q.datasource.uid}`);
      const text = (lang === 'traceql' ? q.query : q.expr) ?? '';
      // A bare trace id is how Tempo opens one trace; everything else must be TraceQL.
      if (lang === 'traceql' && TRACE_ID.test(text)) continue;
      add(list, where, lang, text);
    }
  }
}

export interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
}
export interface PanelJson {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string; type: string };
  targets?: {
    refId: string;
    datasource: { uid: string };
    expr?: string;
    query?: string;
    legendFormat?: string;
  }[];
  links?: { url: string }[];
  fieldConfig?: { defaults: { links?: { url: string }[] } };
}

export function dashboardFiles(): string[] {
  const files = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', 'grafana/dashboards'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter((f) => f.endsWith('.json'));
  return [...new Set(files)].sort();
}

export function allExpressions(): Expression[] {
  const list: Expression[] = [];

  for (const file of dashboardFiles()) {
    const dashboard = readJson<DashboardJson>(file);
    for (const panel of dashboard.panels) {
      const where = `${file} › ${panel.title}`;
      for (const target of panel.targets ?? []) {
        const lang = DS_LANG[target.datasource.uid];
        if (lang === undefined) throw new Error(`${where}: unknown datasource ${target.datasource.uid}`);
        add(list, where, lang, (lang === 'traceql' ? target.query : target.expr) ?? '', target.legendFormat);
      }
      for (const link of [...(panel.links ?? []), ...(panel.fieldConfig?.defaults.links ?? [])]) {
        addExploreUrl(list, `${where} (link)`, link.url);
      }
    }
  }

  type Rule = { data: { datasourceUid: string; model: { expr?: string } }[] };
  const alerting = readProvisioningAsGrafana<{ groups: { rules: Rule[] }[] }>(OUTPUT_PATH.ALERTING);
  for (const group of alerting.groups) {
    for (const rule of group.rules) {
      for (const query of rule.data) {
        if (query.datasourceUid === '__expr__') continue;
        add(list, `${OUTPUT_PATH.ALERTING} (Grafana rule)`, 'promql', query.model.expr ?? '');
      }
    }
  }

  const rules = readYaml<{ groups: { rules: { alert: string; expr: string }[] }[] }>(
    OUTPUT_PATH.PROMETHEUS_RULES,
  );
  for (const group of rules.groups) {
    for (const rule of group.rules)
      add(list, `${OUTPUT_PATH.PROMETHEUS_RULES} › ${rule.alert}`, 'promql', rule.expr);
  }

  type Ds = {
    uid: string;
    jsonData: {
      tracesToLogsV2?: { query: string };
      tracesToMetrics?: { queries: { query: string }[] };
    };
  };
  const ds = readProvisioningAsGrafana<{ datasources: Ds[] }>(OUTPUT_PATH.DATASOURCES);
  for (const source of ds.datasources) {
    const logs = source.jsonData.tracesToLogsV2;
    if (logs) add(list, `${OUTPUT_PATH.DATASOURCES} › tracesToLogsV2`, 'logql', logs.query);
    for (const q of source.jsonData.tracesToMetrics?.queries ?? []) {
      add(list, `${OUTPUT_PATH.DATASOURCES} › tracesToMetrics`, 'promql', q.query);
    }
  }

  // The links /debug hands out (src/telemetry/grafana.ts).
  add(list, 'grafana.ts traceLogsQuery', 'logql', traceLogsQuery(SAMPLE_TRACE_ID, 'tracegram'));
  add(list, 'grafana.ts traceLogsQuery (any service)', 'logql', traceLogsQuery(SAMPLE_TRACE_ID));
  addExploreUrl(list, 'grafana.ts traceUrl', traceUrl('http://localhost:3000', SAMPLE_TRACE_ID));

  return list;
}

// ---------------------------------------------------------------------------------------------------------
// Metric families and log records as the backends see them

/** Metric families a Prometheus text exposition declares (`# TYPE <name> <type>`) whose name starts with `prefix`. */
export function exposedFamilies(exposition: string, prefix = ''): string[] {
  return [...exposition.matchAll(/^# TYPE (\S+) \S+$/gm)]
    .map((m) => m[1] as string)
    .filter((name) => name.startsWith(prefix))
    .sort();
}

/** The family a scraped series name belongs to: itself, or a histogram's for `_bucket`/`_sum`/`_count`. */
export function familyOf(series: string, families: ReadonlySet<string>): string | undefined {
  if (families.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return base !== series && families.has(base) ? base : undefined;
}

interface LogRecordLike {
  attributes: Readonly<Record<string, unknown>>;
  severityNumber?: number;
  severityText?: string;
  spanContext?: { traceId: string; spanId: string };
}

/**
 * The structured metadata Loki keeps for one OTLP log record (grafana/loki pkg/loghttp/push/otlp.go,
 * otlpLogToPushEntry): attributes with dots as underscores, `severity_number` unless unspecified,
 * `severity_text` when set, `trace_id` and `span_id`.
 */
export function lokiMetadata(record: LogRecordLike): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(record.attributes))
    fields[key.replaceAll('.', '_')] = String(value);
  if (record.severityNumber) fields.severity_number = String(record.severityNumber);
  if (record.severityText) fields.severity_text = record.severityText;
  if (record.spanContext) {
    fields.trace_id = record.spanContext.traceId;
    fields.span_id = record.spanContext.spanId;
  }
  return fields;
}

const NUMBER_OPS: Record<string, (a: number, b: number) => boolean> = {
  Gtr: (a, b) => a > b,
  Gte: (a, b) => a >= b,
  Lss: (a, b) => a < b,
  Lte: (a, b) => a <= b,
  Eql: (a, b) => a === b,
  Eq: (a, b) => a === b,
  Neq: (a, b) => a !== b,
};
const STRING_OPS: Record<string, (a: string, b: string) => boolean> = {
  Eq: (a, b) => a === b,
  Neq: (a, b) => a !== b,
  Re: (a, b) => new RegExp(`^(?:${b})$`).test(a),
  Nre: (a, b) => !new RegExp(`^(?:${b})$`).test(a),
};

/**
 * Whether the label filters of a LogQL log query keep a line with these fields, as Loki evaluates them (a
 * missing field is "", a number filter on a non-number drops the line). Only label and number filters are
 * understood; anything else in the pipeline throws, so a query this cannot judge is never passed silently.
 */
export function logqlKeeps(expr: string, fields: Readonly<Record<string, string>>): boolean {
  const nodes = syntaxNodes('logql', expr);
  const inside = (outer: Node) =>
    nodes.filter((n) => n.from >= outer.from && n.to <= outer.to && n !== outer);
  const selector = nodes.find((n) => n.name === 'Selector');
  let keep = true;
  for (const stage of nodes.filter((n) => n.name === 'PipelineStage')) {
    const filter = inside(stage).find((n) => n.name === 'NumberFilter' || n.name === 'Matcher');
    if (filter === undefined) throw new Error(`logqlKeeps understands label filters only: ${stage.text}`);
    const parts = inside(filter);
    const name = parts.find((n) => n.name === 'Identifier')?.text ?? '';
    const op = parts.find((n) => n.name in (filter.name === 'Matcher' ? STRING_OPS : NUMBER_OPS))?.name ?? '';
    const actual = fields[name] ?? '';
    if (filter.name === 'NumberFilter') {
      const expected = Number(parts.find((n) => n.name === 'Number')?.text);
      const value = Number(actual);
      keep &&=
        actual !== '' &&
        !Number.isNaN(value) &&
        (NUMBER_OPS[op] as (a: number, b: number) => boolean)(value, expected);
    } else {
      const expected = JSON.parse(parts.find((n) => n.name === 'String')?.text ?? '""') as string;
      keep &&= (STRING_OPS[op] as (a: string, b: string) => boolean)(actual, expected);
    }
  }
  if (selector === undefined) throw new Error(`not a log query: ${expr}`);
  return keep;
}
