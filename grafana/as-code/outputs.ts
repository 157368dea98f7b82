/**
 * Every file generated from grafana/as-code, by repository path. scripts/generate-observability.ts writes
 * them; test/observability/grafana.test.ts fails when a committed file differs from what this produces.
 */
import { grafanaAlerting, prometheusRules } from './alerts.js';
import { DASHBOARDS, panelIdOf, renderDashboard } from './dashboards.js';
import { dashboardProviders, datasources } from './datasources.js';
import { plainYaml, provisioningYaml } from './provisioning.js';

export const OUTPUT_PATH = {
  DATASOURCES: 'grafana/provisioning/datasources/datasources.yaml',
  DASHBOARD_PROVIDERS: 'grafana/provisioning/dashboards/dashboards.yaml',
  ALERTING: 'grafana/provisioning/alerting/tracegram-alerts.yaml',
  PROMETHEUS_RULES: 'otel/rules/tracegram.rules.yaml',
} as const;

export function dashboardPath(uid: string): string {
  return `grafana/dashboards/${uid}.json`;
}

export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const spec of DASHBOARDS) {
    files.set(dashboardPath(spec.uid), `${JSON.stringify(renderDashboard(spec, DASHBOARDS), null, 2)}\n`);
  }
  files.set(OUTPUT_PATH.DATASOURCES, provisioningYaml(datasources()));
  files.set(OUTPUT_PATH.DASHBOARD_PROVIDERS, provisioningYaml(dashboardProviders()));
  files.set(OUTPUT_PATH.ALERTING, provisioningYaml(grafanaAlerting(panelIdOf)));
  files.set(OUTPUT_PATH.PROMETHEUS_RULES, plainYaml(prometheusRules()));
  return files;
}
