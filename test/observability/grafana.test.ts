/**
 * Grafana: the committed dashboards and provisioning are exactly what grafana/as-code generates (drift),
 * every datasource uid referenced anywhere is provisioned, every `$` in provisioning is escaped or a variable
 * compose passes, alerts link to panels that exist, and the /debug links open the right datasource.
 */
import { describe, expect, test } from 'vitest';
import { ALERT_RULES, CONTACT_POINT } from '../../grafana/as-code/alerts.js';
import { DASHBOARDS, FUNNEL, panelIdOf } from '../../grafana/as-code/dashboards.js';
import { TRACE_LINK_TAGS } from '../../grafana/as-code/datasources.js';
import { dashboardPath, generatedFiles, OUTPUT_PATH } from '../../grafana/as-code/outputs.js';
import { GRAFANA_ENV, grafanaVar } from '../../grafana/as-code/provisioning.js';
import { ATTR, LOG_FIELD, METRIC_LABELS, SEMCONV } from '../../src/telemetry/conventions.js';
import {
  EXEMPLAR_TRACE_ID_LABELS,
  GRAFANA_DATASOURCE,
  LOKI_FIELD,
  logsUrl,
  normaliseTraceId,
  traceUrl,
} from '../../src/telemetry/grafana.js';
import { SCREEN, TRANSITIONS } from '../../src/ui/registry.js';
import {
  type DashboardJson,
  dashboardFiles,
  explorePanes,
  grafanaInterpolate,
  readJson,
  readProvisioningAsGrafana,
  readText,
  readYaml,
  SAMPLE_TRACE_ID,
} from './support.js';

const PROVISIONED_UIDS = new Set(
  readYaml<{ datasources: { uid: string }[] }>(OUTPUT_PATH.DATASOURCES).datasources.map((d) => d.uid),
);

describe('generated files have not drifted from grafana/as-code', () => {
  test.each([...generatedFiles()].map(([path, content]) => [path, content] as const))(
    '%s',
    (path, content) => {
      expect(readText(path), `${path} is stale: run npm run observability:generate`).toBe(content);
    },
  );

  test('no dashboard JSON is committed without a source', () => {
    expect(dashboardFiles()).toEqual(DASHBOARDS.map((d) => dashboardPath(d.uid)).sort());
  });
});

describe('datasource uids', () => {
  test('the provisioned set is exactly the one src/telemetry/grafana.ts names', () => {
    expect([...PROVISIONED_UIDS].sort()).toEqual(
      Object.values(GRAFANA_DATASOURCE)
        .map((d) => d.uid)
        .sort(),
    );
  });

  test('every uid a dashboard panel, target or link names is provisioned', () => {
    const missing: string[] = [];
    for (const file of dashboardFiles()) {
      const text = readText(file);
      for (const [, uid] of text.matchAll(/"uid": "([^"]+)"/g)) {
        if (uid !== readJson<DashboardJson>(file).uid && !PROVISIONED_UIDS.has(uid as string))
          missing.push(`${file}: ${uid}`);
      }
      for (const panel of readJson<DashboardJson>(file).panels) {
        for (const link of [...(panel.links ?? []), ...(panel.fieldConfig?.defaults.links ?? [])]) {
          for (const pane of explorePanes(link.url)) {
            if (!PROVISIONED_UIDS.has(pane.datasource)) missing.push(`${file} link: ${pane.datasource}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  test('every uid the datasources and alert rules reference is provisioned', () => {
    const text = readText(OUTPUT_PATH.DATASOURCES) + readText(OUTPUT_PATH.ALERTING);
    const referenced = [...text.matchAll(/datasourceUid: (\S+)/g)].map((m) => m[1] as string);
    expect(referenced.length).toBeGreaterThan(5);
    for (const uid of referenced) if (uid !== '__expr__') expect(PROVISIONED_UIDS).toContain(uid);
  });
});

describe('datasource links between signals', () => {
  type Ds = { uid: string; jsonData: Record<string, never> };
  const ds = readProvisioningAsGrafana<{ datasources: Ds[] }>(OUTPUT_PATH.DATASOURCES).datasources;
  const byUid = (uid: string): unknown => ds.find((d) => d.uid === uid)?.jsonData;

  test('Prometheus exemplars link to Tempo under both exemplar labels', () => {
    const prom = byUid(GRAFANA_DATASOURCE.PROMETHEUS.uid) as {
      exemplarTraceIdDestinations: { name: string }[];
    };
    expect(prom.exemplarTraceIdDestinations.map((d) => d.name)).toEqual([...EXEMPLAR_TRACE_ID_LABELS]);
  });

  test('Tempo links to Loki by the trace_id structured metadata, and to Prometheus for the service map', () => {
    const tempo = byUid(GRAFANA_DATASOURCE.TEMPO.uid) as {
      tracesToLogsV2: { query: string; tags: { key: string; value: string }[] };
      serviceMap: { datasourceUid: string };
    };
    expect(tempo.tracesToLogsV2.query).toContain(`${LOKI_FIELD.TRACE_ID}="\${__span.traceId}"`);
    expect(Object.values(LOG_FIELD)).toContain(LOKI_FIELD.TRACE_ID);
    expect(tempo.serviceMap.datasourceUid).toBe(GRAFANA_DATASOURCE.PROMETHEUS.uid);
  });

  test('span attributes named by trace links are ones the code sets; their labels exist', () => {
    const attributes = [...Object.values(ATTR), ...Object.values(SEMCONV), 'service.name'] as string[];
    for (const tag of [...TRACE_LINK_TAGS.logs, ...TRACE_LINK_TAGS.metrics])
      expect(attributes).toContain(tag.key);
    expect(METRIC_LABELS.UPDATES).toContain(TRACE_LINK_TAGS.metrics[0].value);
    expect(TRACE_LINK_TAGS.logs[0].value).toBe(LOKI_FIELD.SERVICE_NAME);
  });

  test('Loki links to Tempo with a derived field on the trace_id label', () => {
    const loki = byUid(GRAFANA_DATASOURCE.LOKI.uid) as {
      derivedFields: { matcherType: string; matcherRegex: string; datasourceUid: string; url: string }[];
    };
    expect(loki.derivedFields).toEqual([
      expect.objectContaining({
        matcherType: 'label',
        matcherRegex: LOG_FIELD.TRACE_ID,
        datasourceUid: GRAFANA_DATASOURCE.TEMPO.uid,
        url: grafanaVar('__value.raw'),
      }),
    ]);
  });
});

describe('provisioning reads right once Grafana has interpolated it', () => {
  test.each([OUTPUT_PATH.DATASOURCES, OUTPUT_PATH.ALERTING, OUTPUT_PATH.DASHBOARD_PROVIDERS])(
    '%s: every variable Grafana expands is one compose passes it',
    (path) => {
      const expanded = new Set<string>();
      readProvisioningAsGrafana(path, (name) => {
        expanded.add(name);
        return '';
      });
      for (const name of expanded) expect(Object.values(GRAFANA_ENV) as string[]).toContain(name);
    },
  );

  test('alert summaries reach the Go template with a single `$` (annotations are not interpolated)', () => {
    const alerting = readProvisioningAsGrafana<{
      groups: { rules: { annotations: Record<string, string> }[] }[];
    }>(OUTPUT_PATH.ALERTING);
    const annotations = alerting.groups.flatMap((g) => g.rules.map((r) => r.annotations));
    expect(annotations[0]?.summary).toContain('{{ humanizePercentage $values.A.Value }}');
    for (const annotation of annotations) {
      expect(annotation.summary).toMatch(/\{\{ humanize(Percentage)? \$values\.A\.Value \}\}/);
      // No `$$` (Go's template parser rejects it) and no `${VAR}` (nothing would expand it).
      expect(Object.values(annotation).join('\n')).not.toMatch(/\$\$|\$\{/);
    }
  });

  test("the interpolation model is Grafana's: `$$` is a literal `$`, unset names expand to nothing", () => {
    expect(grafanaInterpolate('{{ $$values.A }}')).toBe('{{ $values.A }}');
    expect(grafanaInterpolate('{{ $values.A }}')).toBe('{{ .A }}');
    const chatId = grafanaVar(GRAFANA_ENV.ALERT_CHAT_ID);
    expect(grafanaInterpolate(chatId)).toBe(chatId);
    expect(grafanaInterpolate(chatId, () => '42')).toBe('42');
  });
});

describe('alerting', () => {
  type Alerting = {
    groups: {
      folder: string;
      rules: { uid: string; title: string; annotations: Record<string, string>; for: string }[];
    }[];
    contactPoints: { name: string; receivers: { type: string; settings: Record<string, string> }[] }[];
    policies: { receiver: string }[];
  };
  const alerting = readYaml<Alerting>(OUTPUT_PATH.ALERTING);

  test('the same rules as the Prometheus rules file, by name and duration', () => {
    const prom = readYaml<{ groups: { rules: { alert: string; for: string }[] }[] }>(
      OUTPUT_PATH.PROMETHEUS_RULES,
    );
    const grafana = alerting.groups.flatMap((g) => g.rules.map((r) => [r.title, r.for]));
    expect(grafana).toEqual(prom.groups.flatMap((g) => g.rules.map((r) => [r.alert, r.for])));
  });

  test('each alert says what to do and links a panel that exists', () => {
    for (const rule of ALERT_RULES) {
      expect(rule.action.length).toBeGreaterThan(40);
      expect(panelIdOf(rule.dashboard.uid, rule.dashboard.panel)).toBeGreaterThan(0);
    }
    for (const rule of alerting.groups.flatMap((g) => g.rules)) {
      expect(rule.annotations.description).toBeTruthy();
      // externalURL is Grafana's root_url, which Grafana always ends with `/`.
      expect(rule.annotations.dashboard).toMatch(/^\{\{ externalURL \}\}d\/tracegram-/);
      expect(rule.uid.length).toBeLessThanOrEqual(40);
    }
  });

  test('notifications go to Telegram with the bot token and admin chat id from the environment', () => {
    expect(alerting.contactPoints).toEqual([
      expect.objectContaining({
        name: CONTACT_POINT,
        receivers: [
          expect.objectContaining({
            type: 'telegram',
            settings: expect.objectContaining({
              bottoken: `\${${GRAFANA_ENV.ALERT_BOT_TOKEN}}`,
              chatid: `\${${GRAFANA_ENV.ALERT_CHAT_ID}}`,
            }),
          }),
        ],
      }),
    ]);
    expect(alerting.policies.map((p) => p.receiver)).toEqual([CONTACT_POINT]);
  });
});

describe('dashboards', () => {
  test('the funnel follows the UI registry: start → category → model → parameters → confirm → queued', () => {
    expect(FUNNEL).toEqual([
      SCREEN.MAIN_MENU,
      SCREEN.CATEGORY_PICK,
      SCREEN.MODEL_PICK,
      SCREEN.PARAMS_FORM,
      SCREEN.CONFIRM,
      SCREEN.QUEUED,
    ]);
    // Each step is one press away from the one before it.
    for (const [i, to] of FUNNEL.entries()) {
      if (i > 0)
        expect(
          TRANSITIONS.some((t) => t.from === FUNNEL[i - 1] && t.to === to),
          to,
        ).toBe(true);
    }
  });

  test.each(dashboardFiles())('%s: panels do not overlap and fit the 24-column grid', (file) => {
    const cells = new Set<string>();
    for (const panel of readJson<{ panels: { gridPos: { x: number; y: number; w: number; h: number } }[] }>(
      file,
    ).panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`)).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  test('links leave Grafana variables unencoded, so Grafana interpolates them', () => {
    for (const file of dashboardFiles()) {
      for (const panel of readJson<DashboardJson>(file).panels) {
        for (const link of [...(panel.links ?? []), ...(panel.fieldConfig?.defaults.links ?? [])]) {
          expect(link.url, `${file} › ${panel.title}`).not.toMatch(/%24/);
          expect(link.url).toContain(grafanaVar('__from'));
        }
      }
    }
  });

  test('series links only use labels the panel groups its series by', () => {
    for (const spec of DASHBOARDS) {
      for (const panel of spec.sections.flatMap((s) => s.panels)) {
        for (const label of panel.traces?.bySeries ?? []) {
          for (const query of panel.queries) {
            const grouping = 'prom' in query ? (/by \(([^)]*)\)/.exec(query.prom)?.[1] ?? '') : '';
            expect(grouping.split(', '), `${panel.title}: ${label}`).toContain(label);
          }
        }
      }
    }
  });

  test('every metric panel links to the traces behind it', () => {
    for (const spec of DASHBOARDS) {
      for (const panel of spec.sections.flatMap((s) => s.panels)) {
        const isMetric = panel.queries.every((q) => 'prom' in q);
        // Panels about the stack itself (instances, scrape targets, telemetry) have no update traces behind them.
        const isTelemetry = ['Telemetry health', 'Instance roles', 'Stack components up'].includes(
          panel.title,
        );
        if (isMetric && !isTelemetry) expect(panel.traces, panel.title).toBeDefined();
      }
    }
  });
});

describe('/debug links (src/telemetry/grafana.ts)', () => {
  test('traceUrl opens the trace in the provisioned Tempo datasource', () => {
    const url = traceUrl('http://grafana.example:3000/', SAMPLE_TRACE_ID.toUpperCase());
    expect(url.startsWith('http://grafana.example:3000/explore?')).toBe(true);
    const [pane] = explorePanes(url);
    expect(pane?.datasource).toBe(GRAFANA_DATASOURCE.TEMPO.uid);
    expect(pane?.queries[0]).toMatchObject({
      query: SAMPLE_TRACE_ID,
      datasource: { uid: GRAFANA_DATASOURCE.TEMPO.uid },
    });
  });

  test('logsUrl opens the trace logs in the provisioned Loki datasource', () => {
    const [pane] = explorePanes(logsUrl('http://localhost:3000', SAMPLE_TRACE_ID, 'tracegram'));
    expect(pane?.datasource).toBe(GRAFANA_DATASOURCE.LOKI.uid);
    expect(pane?.queries[0]?.expr).toBe(`{service_name="tracegram"} | trace_id="${SAMPLE_TRACE_ID}"`);
  });

  test('only W3C trace ids are accepted', () => {
    expect(normaliseTraceId('0'.repeat(32))).toBeUndefined();
    expect(normaliseTraceId('xyz')).toBeUndefined();
    expect(() => traceUrl('', 'nope')).toThrow(TypeError);
  });
});
