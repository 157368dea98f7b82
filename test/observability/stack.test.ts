/**
 * The stack's files, checked without Docker: docker-compose.yml against the Compose specification's JSON
 * schema, every file it mounts exists, every YAML file parses, images are pinned, and the collector, Tempo,
 * Loki and Prometheus configs agree with each other, with Grafana's provisioning and with conventions.ts.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ALERT_RULES } from '../../grafana/as-code/alerts.js';
import { BACKEND_URL, GRAFANA_DASHBOARDS_DIR } from '../../grafana/as-code/datasources.js';
import { EXTERNAL_METRICS } from '../../grafana/as-code/external-metrics.js';
import { OUTPUT_PATH } from '../../grafana/as-code/outputs.js';
import { GRAFANA_ENV } from '../../grafana/as-code/provisioning.js';
import { ATTR } from '../../src/telemetry/conventions.js';
import { ALL_OUTCOMES, type Outcome } from '../../src/telemetry/reason-codes.js';
import { ROOT, readJson, readText, readYaml, repoPath } from './support.js';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const compose = readYaml<Compose>('docker-compose.yml');
const services = compose.services;

function mounts(service: Service): { source: string; target: string; bind: boolean }[] {
  return (service.volumes ?? []).map((spec) => {
    const [source = '', target = ''] = spec.split(':');
    return { source, target, bind: source.startsWith('.') || source.startsWith('/') };
  });
}

/** The repository file or directory a container path is served from, through the service's bind mounts. */
function hostPathOf(service: Service, containerPath: string): string | undefined {
  for (const m of mounts(service).filter((x) => x.bind)) {
    if (containerPath === m.target) return m.source;
    if (containerPath.startsWith(`${m.target}/`))
      return join(m.source, containerPath.slice(m.target.length + 1));
  }
  return undefined;
}

function configArg(service: Service, flag: string): string {
  const arg = (service.command ?? []).find((a) => a.startsWith(`${flag}=`));
  if (arg === undefined) throw new Error(`no ${flag} in command`);
  return arg.slice(flag.length + 1);
}

/** Ajv for the vendored Compose schema; its custom formats are checked by Compose itself, not here. */
function composeValidator() {
  const { $schema: _draft, ...schema } = readJson<Record<string, unknown>>(
    'test/observability/fixtures/compose-spec.json',
  );
  const ajv = new Ajv({ allErrors: true, strict: false });
  for (const format of ['duration', 'ports', 'expose', 'uri']) ajv.addFormat(format, true);
  return ajv.compile(schema);
}

function yamlFiles(dir: string): string[] {
  return readdirSync(repoPath(dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
}

describe('docker-compose.yml', () => {
  test('validates against the Compose specification JSON schema', () => {
    // Vendored from compose-spec/compose-spec schema/compose-spec.json (see fixtures/README.md).
    const validate = composeValidator();
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  test('the schema check bites: an unknown key is rejected', () => {
    const validate = composeValidator();
    expect(validate({ services: { x: { image: 'a', helthcheck: {} } } })).toBe(false);
  });

  test('runs the bot, Postgres, the collector, Tempo, Loki, Prometheus and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['bot', 'grafana', 'loki', 'otel-collector', 'postgres', 'prometheus', 'tempo'].sort(),
    );
  });

  test.each(Object.entries(services))(
    '%s: image pinned to an exact version, or built here',
    (_name, service) => {
      if (service.build !== undefined) return;
      expect(service.image).toMatch(/^[\w./-]+:v?\d+\.\d+(\.\d+)?(-[\w.]+)?$/);
    },
  );

  test('every image is the pinned version the configs were written for', () => {
    const images = Object.fromEntries(Object.entries(services).map(([n, s]) => [n, s.image]));
    expect(images).toMatchObject({
      'otel-collector': expect.stringMatching(/^otel\/opentelemetry-collector-contrib:0\.159\.\d+$/),
      tempo: expect.stringMatching(/^grafana\/tempo:3\.0\.\d+$/),
      loki: expect.stringMatching(/^grafana\/loki:3\.7\.\d+$/),
      prometheus: expect.stringMatching(/^prom\/prometheus:v3\.14\.\d+$/),
      grafana: expect.stringMatching(/^grafana\/grafana:13\.\d+\.\d+$/),
      postgres: expect.stringMatching(/^postgres:1[78]\.\d+$/),
    });
  });

  test.each(Object.entries(services))('%s: every bind-mounted file or directory exists', (_name, service) => {
    for (const m of mounts(service).filter((x) => x.bind)) {
      expect(existsSync(join(ROOT, m.source)), `${m.source} is mounted but missing`).toBe(true);
    }
  });

  test('every named volume is declared, and every declared volume is used', () => {
    const used = new Set(
      Object.values(services).flatMap((s) =>
        mounts(s)
          .filter((m) => !m.bind)
          .map((m) => m.source),
      ),
    );
    expect([...used].sort()).toEqual(Object.keys(compose.volumes).sort());
  });

  test('healthchecks: every service has one except the collector, whose scratch image cannot run a probe', () => {
    const without = Object.entries(services)
      .filter(([, s]) => s.healthcheck === undefined)
      .map(([n]) => n);
    expect(without).toEqual(['otel-collector']);
  });

  test('ports are bound to 127.0.0.1 and documented in docs/observability.md', () => {
    const docs = readText('docs/observability.md');
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        expect(docs, `${name} port ${port}`).toContain(port.split(':')[1]);
      }
    }
  });

  test('the bot exports OTLP/HTTP to the collector and takes its secrets from .env', () => {
    const env = services.bot?.environment ?? {};
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    expect(env.BOT_TOKEN).toMatch(/^\$\{BOT_TOKEN:\?/);
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toContain('deployment.environment.name=');
  });

  test('BOT_TOKEN is the only variable compose requires; every other one has a default', () => {
    const text = readText('docker-compose.yml');
    const required = [...text.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]);
    expect(required).toEqual(['BOT_TOKEN']);
    const bare = [...text.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]);
    // A bare ${VAR} is only allowed as the fallback of another default, where BOT_TOKEN is set.
    expect(bare).toEqual(['BOT_TOKEN']);
  });

  test('every variable compose reads is documented in .env.example', () => {
    const example = readText('.env.example');
    const vars = new Set(
      [...readText('docker-compose.yml').matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1] as string),
    );
    for (const name of vars) expect(example, name).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
  });
});

describe('YAML is well-formed', () => {
  const files = ['docker-compose.yml', ...yamlFiles('otel'), ...yamlFiles('grafana/provisioning')];
  test.each(files)('%s', (file) => {
    const docs = parseAllDocuments(readText(file));
    for (const doc of docs) expect(doc.errors.map(String)).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readText('Dockerfile');
  test('multi-stage on Node 24, non-root, with a healthcheck on /healthz, running src/main.ts with tsx', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:24\.\d+\.\d+/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(dockerfile).toContain('CMD ["node", "--import", "tsx", "src/main.ts"]');
  });
  test('the image gets every directory the app reads at run time (src, locales)', () => {
    const ignored = readText('.dockerignore').split('\n');
    for (const dir of ['src', 'locales']) {
      expect(dockerfile).toContain(`COPY ${dir} ./${dir}`);
      expect(ignored).not.toContain(dir);
      expect(existsSync(repoPath(dir))).toBe(true);
    }
  });
  test('.dockerignore keeps secrets and local state out of the build context', () => {
    const ignore = readText('.dockerignore').split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['.env', 'node_modules', '.git', 'data']));
  });
});

describe('collector', () => {
  const service = services['otel-collector'] as Service;
  type Collector = {
    receivers: { otlp: { protocols: Record<string, { endpoint: string }> } };
    processors: Record<string, Record<string, unknown>>;
    exporters: Record<string, { endpoint?: string; metrics_endpoint?: string }>;
    extensions: Record<string, unknown>;
    service: { extensions: string[]; pipelines: Record<string, Record<string, string[]>> };
  };
  const path = hostPathOf(service, configArg(service, '--config')) as string;
  const config = readYaml<Collector>(path);

  test('compose mounts the file the command names', () => {
    expect(path).toBe('./otel/collector.yaml');
  });

  test('OTLP receivers listen on 0.0.0.0 (gRPC 4317, HTTP 4318)', () => {
    expect(config.receivers.otlp.protocols.grpc?.endpoint).toBe('0.0.0.0:4317');
    expect(config.receivers.otlp.protocols.http?.endpoint).toBe('0.0.0.0:4318');
  });

  test('every pipeline starts with memory_limiter and uses only defined components', () => {
    for (const [name, pipeline] of Object.entries(config.service.pipelines)) {
      expect(pipeline.processors?.[0], name).toBe('memory_limiter');
      for (const r of pipeline.receivers ?? []) expect(config.receivers, name).toHaveProperty([r]);
      for (const p of pipeline.processors ?? []) expect(config.processors, name).toHaveProperty([p]);
      for (const e of pipeline.exporters ?? []) expect(config.exporters, name).toHaveProperty([e]);
    }
    for (const ext of config.service.extensions) expect(config.extensions).toHaveProperty([ext]);
  });

  test('exporters use the 0.144+ names and batch in their sending queue', () => {
    for (const [id, exporter] of Object.entries(config.exporters)) {
      expect(id).toMatch(/^(otlp_grpc|otlp_http)(\/[\w-]+)?$/);
      expect(exporter).toHaveProperty(['sending_queue', 'batch']);
    }
  });

  test('traces → Tempo, logs → Loki /otlp, metrics → Prometheus OTLP receiver', () => {
    const exporterOf = (signal: string) =>
      config.exporters[config.service.pipelines[signal]?.exporters?.[0] ?? ''];
    expect(exporterOf('traces')?.endpoint).toBe('tempo:4317');
    expect(exporterOf('logs')?.endpoint).toBe(`${BACKEND_URL.LOKI}/otlp`);
    expect(exporterOf('metrics')?.metrics_endpoint).toBe(`${BACKEND_URL.PROMETHEUS}/api/v1/otlp/v1/metrics`);
  });

  test('tail sampling keeps errors and every non-success outcome, named as conventions.ts names them', () => {
    type Policy = {
      type: string;
      status_code?: { status_codes: string[] };
      string_attribute?: { key: string; values: string[] };
    };
    const sampling = config.processors.tail_sampling as { policies: Policy[] };
    expect(config.service.pipelines.traces?.processors).toContain('tail_sampling');
    expect(sampling.policies.find((p) => p.type === 'status_code')?.status_code?.status_codes).toEqual([
      'ERROR',
    ]);
    const byOutcome = sampling.policies.find((p) => p.type === 'string_attribute')?.string_attribute;
    expect(byOutcome?.key).toBe(ATTR.OUTCOME);
    const kept: Outcome[] = ['rejected', 'error', 'silent'];
    expect(byOutcome?.values.sort()).toEqual([...kept].sort());
    for (const v of byOutcome?.values ?? []) expect(ALL_OUTCOMES).toContain(v);
    expect(sampling.policies.map((p) => p.type)).toContain('probabilistic');
  });

  test('its own metrics are exposed for Prometheus to scrape (the otel-collector job)', () => {
    const prometheus = readYaml<{
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    }>('otel/prometheus.yaml');
    const job = prometheus.scrape_configs.find((c) => c.job_name === 'otel-collector');
    expect(job?.static_configs[0]?.targets).toEqual(['otel-collector:8888']);
    expect(readText(path)).toMatch(/port: 8888/);
    expect(Object.values(EXTERNAL_METRICS).some((m) => m.source === 'otel-collector')).toBe(true);
  });
});

describe('Tempo 3', () => {
  const service = services.tempo as Service;
  const path = hostPathOf(service, configArg(service, '-config.file')) as string;
  const config = readYaml<Record<string, unknown>>(path);

  test('has none of the blocks Tempo 3 removed', () => {
    for (const removed of ['ingester', 'ingester_client', 'compactor', 'metrics_generator_client']) {
      expect(config, removed).not.toHaveProperty([removed]);
    }
    const withoutComments = readText(path).replaceAll(/#.*$/gm, '');
    expect(withoutComments).not.toMatch(/local_blocks|local-blocks|metrics_generator_processors/);
  });

  test('runs span metrics and service graphs, with exemplars, dimensions from conventions.ts', () => {
    const generator = config.metrics_generator as {
      storage: { remote_write: { url: string; send_exemplars: boolean }[] };
      processor: { span_metrics: { dimensions: string[] } };
    };
    expect(config).toHaveProperty(
      ['overrides', 'defaults', 'metrics_generator', 'processors'],
      ['service-graphs', 'span-metrics'],
    );
    expect(generator.storage.remote_write[0]).toEqual({
      url: `${BACKEND_URL.PROMETHEUS}/api/v1/write`,
      send_exemplars: true,
    });
    const attrs = Object.values(ATTR) as string[];
    const labels = EXTERNAL_METRICS.traces_spanmetrics_calls_total.labels as readonly string[];
    for (const dim of generator.processor.span_metrics.dimensions) {
      expect(attrs).toContain(dim);
      expect(labels).toContain(dim.replaceAll('.', '_'));
    }
  });
});

describe('Prometheus', () => {
  const service = services.prometheus as Service;
  const path = hostPathOf(service, configArg(service, '--config.file')) as string;
  const config = readYaml<{ rule_files: string[]; otlp: { translation_strategy: string } }>(path);

  test('OTLP receiver, remote-write receiver and exemplar storage are on', () => {
    expect(service.command).toEqual(
      expect.arrayContaining([
        '--web.enable-otlp-receiver',
        '--web.enable-remote-write-receiver',
        '--enable-feature=exemplar-storage',
      ]),
    );
  });

  test('OTLP names are translated the way the bot /metrics exporter names them', () => {
    expect(config.otlp.translation_strategy).toBe('UnderscoreEscapingWithSuffixes');
  });

  test('loads the generated rules file', () => {
    const [glob] = config.rule_files;
    const dir = hostPathOf(service, (glob as string).replace(/\/\*\.yaml$/, ''));
    expect(dir).toBe('./otel/rules');
    expect(existsSync(repoPath(OUTPUT_PATH.PROMETHEUS_RULES))).toBe(true);
    expect(OUTPUT_PATH.PROMETHEUS_RULES.startsWith('otel/rules/')).toBe(true);
  });
});

describe('Loki', () => {
  test('accepts structured metadata, which OTLP ingestion needs for trace_id and span_id', () => {
    const service = services.loki as Service;
    const config = readYaml<{ limits_config: { allow_structured_metadata: boolean } }>(
      hostPathOf(service, configArg(service, '-config.file')) as string,
    );
    expect(config.limits_config.allow_structured_metadata).toBe(true);
  });
});

describe('Grafana in compose', () => {
  const service = services.grafana as Service;

  test('mounts the provisioning and the dashboards where the provider looks', () => {
    expect(hostPathOf(service, '/etc/grafana/provisioning')).toBe('./grafana/provisioning');
    expect(hostPathOf(service, GRAFANA_DASHBOARDS_DIR)).toBe('./grafana/dashboards');
    const home = service.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    expect(existsSync(repoPath(hostPathOf(service, home) as string))).toBe(true);
  });

  test('passes every variable the provisioning files expand', () => {
    for (const name of Object.values(GRAFANA_ENV)) expect(service.environment).toHaveProperty([name]);
  });

  test('the datasource URLs point at compose services on their ports', () => {
    for (const url of Object.values(BACKEND_URL)) {
      const { hostname, port } = new URL(url);
      expect(services).toHaveProperty([hostname]);
      expect(readText('docker-compose.yml')).toContain(`${port}:${port}`);
    }
  });

  test('alert rules exist for the error ratio, silence, no updates and telemetry', () => {
    expect(ALERT_RULES.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'TracegramErrorRatioHigh',
        'TracegramErrorRatioCritical',
        'TracegramSilentUpdate',
        'TracegramNoUpdates',
        'TracegramTelemetryDropping',
      ]),
    );
  });
});

test('.ci/apt-packages.txt lists what the checks need', () => {
  expect(statSync(repoPath('.ci/apt-packages.txt')).isFile()).toBe(true);
  expect(readText('.ci/apt-packages.txt').split('\n')).toContain('prometheus');
});
