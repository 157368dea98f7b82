/**
 * Datasource provisioning, with the uids from src/telemetry/grafana.ts and the links between signals:
 * Prometheus exemplars → Tempo, Tempo → Loki (trace_id structured metadata), Tempo → Prometheus (service
 * map, span → handler metrics), Loki → Tempo (derived field on the trace_id label).
 */
import { ATTR, LABEL, METRIC } from '../../src/telemetry/conventions.js';
import { EXEMPLAR_TRACE_ID_LABELS, GRAFANA_DATASOURCE, LOKI_FIELD } from '../../src/telemetry/grafana.js';
import { sumRate } from './promql.js';
import { grafanaVar } from './provisioning.js';

/** In-network addresses of the backends (docker-compose.yml service names and ports). */
export const BACKEND_URL = {
  PROMETHEUS: 'http://prometheus:9090',
  TEMPO: 'http://tempo:3200',
  LOKI: 'http://loki:3100',
} as const;

export const PROMETHEUS_VERSION = '3.14.0';

/** Where docker-compose.yml mounts grafana/dashboards inside the Grafana container. */
export const GRAFANA_DASHBOARDS_DIR = '/etc/grafana/dashboards';

/** Span attribute → Loki/Prometheus label used by the trace → logs and trace → metrics links. */
export const TRACE_LINK_TAGS = {
  logs: [{ key: 'service.name', value: LOKI_FIELD.SERVICE_NAME }],
  metrics: [{ key: ATTR.HANDLER, value: LABEL.HANDLER }],
} as const;

export function datasources() {
  const { PROMETHEUS, TEMPO, LOKI } = GRAFANA_DATASOURCE;
  return {
    apiVersion: 1,
    datasources: [
      {
        name: PROMETHEUS.name,
        uid: PROMETHEUS.uid,
        type: PROMETHEUS.type,
        access: 'proxy',
        url: BACKEND_URL.PROMETHEUS,
        isDefault: true,
        editable: false,
        jsonData: {
          httpMethod: 'POST',
          prometheusType: 'Prometheus',
          prometheusVersion: PROMETHEUS_VERSION,
          timeInterval: '15s',
          exemplarTraceIdDestinations: EXEMPLAR_TRACE_ID_LABELS.map((name) => ({
            name,
            datasourceUid: TEMPO.uid,
            urlDisplayLabel: 'Open trace',
          })),
        },
      },
      {
        name: TEMPO.name,
        uid: TEMPO.uid,
        type: TEMPO.type,
        access: 'proxy',
        url: BACKEND_URL.TEMPO,
        editable: false,
        jsonData: {
          tracesToLogsV2: {
            datasourceUid: LOKI.uid,
            spanStartTimeShift: '-5m',
            spanEndTimeShift: '5m',
            tags: TRACE_LINK_TAGS.logs,
            filterByTraceID: false,
            filterBySpanID: false,
            customQuery: true,
            query: `{${grafanaVar('__tags')}} | ${LOKI_FIELD.TRACE_ID}="${grafanaVar('__span.traceId')}"`,
          },
          tracesToMetrics: {
            datasourceUid: PROMETHEUS.uid,
            spanStartTimeShift: '-5m',
            spanEndTimeShift: '5m',
            tags: TRACE_LINK_TAGS.metrics,
            queries: [
              {
                name: 'Updates/s of this handler by outcome',
                // Grafana replaces $__tags with `handler="…"` taken from the span's tracegram.handler.
                query: sumRate(`${METRIC.UPDATES.promName}{$__tags}`, '5m', [LABEL.OUTCOME]),
              },
            ],
          },
          serviceMap: { datasourceUid: PROMETHEUS.uid },
          nodeGraph: { enabled: true },
          search: { hide: false },
          traceQuery: { timeShiftEnabled: true, spanStartTimeShift: '-1h', spanEndTimeShift: '1h' },
          streamingEnabled: { search: true, metrics: true },
        },
      },
      {
        name: LOKI.name,
        uid: LOKI.uid,
        type: LOKI.type,
        access: 'proxy',
        url: BACKEND_URL.LOKI,
        editable: false,
        jsonData: {
          maxLines: 1000,
          derivedFields: [
            {
              name: LOKI_FIELD.TRACE_ID,
              matcherType: 'label',
              matcherRegex: LOKI_FIELD.TRACE_ID,
              datasourceUid: TEMPO.uid,
              url: grafanaVar('__value.raw'),
              urlDisplayLabel: 'Open trace in Tempo',
            },
          ],
        },
      },
    ],
  };
}

export function dashboardProviders() {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'tracegram',
        orgId: 1,
        folder: 'Tracegram',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: GRAFANA_DASHBOARDS_DIR, foldersFromFilesStructure: false },
      },
    ],
  };
}
