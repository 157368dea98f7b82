/**
 * The stack's files, checked without Docker: docker-compose.yml against the Compose specification's JSON
 * schema, every file it mounts exists, every YAML file parses, images are pinned, every in-network address
 * names a compose service and a port that service's own config listens on, healthchecks run a binary the
 * image ships and probe a port the service listens on, and the collector, Tempo, Loki and Prometheus configs
 * agree with each other, with Grafana's provisioning and with conventions.ts. What needs the images
 * themselves (each binary's own config validation) is listed in docs/observability.md.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ALERT_RULES } from '../../grafana/as-code/alerts.js';
import { BACKEND_URL, GRAFANA_DASHBOARDS_DIR } from '../../grafana/as-code/datasources.js';
import { EXTERNAL_METRICS } from '../../grafana/as-code/external-metrics.js';
import { OUTPUT_PATH } from '../../grafana/as-code/outputs.js';
import { GRAFANA_ENV } from '../../grafana/as-code/provisioning.js';
import packageJson from '../../package.json' with { type: 'json' };
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
  healthcheck?: { test: string[] | string };
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

// ---------------------------------------------------------------------------------------------------------
// Who listens where: each service's ports as its own config (or its documented default) sets them.

/** Defaults for ports a service's config leaves to the image, as each project documents them. */
const DEFAULT_PORT = {
  /** `prometheus --web.listen-address` defaults to 0.0.0.0:9090. */
  prometheus: 9090,
  /** Grafana's [server] http_port (GF_SERVER_HTTP_PORT) defaults to 3000. */
  grafana: 3000,
  /** The postgres image listens on 5432 (PGPORT). */
  postgres: 5432,
  /** dskit's server.grpc_listen_port defaults to 9095 (Tempo, Loki). */
  grpc: 9095,
} as const;

function portOf(address: string): number {
  const port = Number(/:(\d+)$/.exec(address)?.[1]);
  if (!Number.isInteger(port)) throw new Error(`no port in ${address}`);
  return port;
}

function configOf<T>(name: string, flag: string): T {
  const service = services[name] as Service;
  return readYaml<T>(hostPathOf(service, configArg(service, flag)) as string);
}

type OtlpReceiver = { protocols: Record<string, { endpoint: string }> };

/** The TCP ports a compose service listens on inside the network, read from its own configuration. */
function listenPorts(name: string): number[] {
  const service = services[name];
  if (service === undefined) throw new Error(`no compose service ${name}`);
  switch (name) {
    case 'bot':
      return [Number(service.environment?.PORT), Number(service.environment?.METRICS_PORT)];
    case 'postgres':
      return [DEFAULT_PORT.postgres];
    case 'grafana':
      return [Number(service.environment?.GF_SERVER_HTTP_PORT ?? DEFAULT_PORT.grafana)];
    case 'prometheus': {
      const flag = (service.command ?? []).find((a) => a.startsWith('--web.listen-address='));
      return [flag ? portOf(flag) : DEFAULT_PORT.prometheus];
    }
    case 'tempo': {
      const config = configOf<{
        server: { http_listen_port: number; grpc_listen_port?: number };
        distributor: { receivers: { otlp: OtlpReceiver } };
      }>(name, '-config.file');
      return [
        config.server.http_listen_port,
        config.server.grpc_listen_port ?? DEFAULT_PORT.grpc,
        ...Object.values(config.distributor.receivers.otlp.protocols).map((p) => portOf(p.endpoint)),
      ];
    }
    case 'loki': {
      const config = configOf<{ server: { http_listen_port: number; grpc_listen_port?: number } }>(
        name,
        '-config.file',
      );
      return [config.server.http_listen_port, config.server.grpc_listen_port ?? DEFAULT_PORT.grpc];
    }
    case 'otel-collector': {
      const config = configOf<{
        receivers: { otlp: OtlpReceiver };
        extensions: { health_check?: { endpoint: string } };
        service: {
          telemetry: { metrics: { readers: { pull?: { exporter: { prometheus: { port: number } } } }[] } };
        };
      }>(name, '--config');
      return [
        ...Object.values(config.receivers.otlp.protocols).map((p) => portOf(p.endpoint)),
        ...config.service.telemetry.metrics.readers.flatMap((r) =>
          r.pull ? [r.pull.exporter.prometheus.port] : [],
        ),
        ...(config.extensions.health_check ? [portOf(config.extensions.health_check.endpoint)] : []),
      ];
    }
    default:
      throw new Error(`listenPorts does not know how ${name} is configured`);
  }
}

/** Problems with an in-network address `from` uses: the host must be a compose service listening on the port. */
function addressProblems(from: string, address: string): string[] {
  const url = new URL(/^[a-z][\w+.-]*:\/\//.test(address) ? address : `tcp://${address}`);
  const host = url.hostname === 'localhost' || url.hostname === '127.0.0.1' ? from : url.hostname;
  if (services[host] === undefined) return [`${address}: ${host} is not a compose service`];
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const ports = listenPorts(host);
  return ports.includes(port) ? [] : [`${address}: ${host} listens on ${ports.join(', ')}, not ${port}`];
}

/** Every in-network address the stack's files name, by the service that uses it. */
function inNetworkAddresses(): [from: string, address: string][] {
  const collector = configOf<{
    exporters: Record<string, { endpoint?: string; metrics_endpoint?: string }>;
  }>('otel-collector', '--config');
  const prometheus = configOf<{ scrape_configs: { static_configs: { targets: string[] }[] }[] }>(
    'prometheus',
    '--config.file',
  );
  const tempo = configOf<{ metrics_generator: { storage: { remote_write: { url: string }[] } } }>(
    'tempo',
    '-config.file',
  );
  const botEnv = services.bot?.environment ?? {};
  const uninterpolated = (text: string) => text.replaceAll(/\$\{[^}]*\}/g, 'x');
  return [
    ...Object.values(BACKEND_URL).map((url): [string, string] => ['grafana', url]),
    ['bot', botEnv.OTEL_EXPORTER_OTLP_ENDPOINT as string],
    ['bot', uninterpolated(botEnv.DATABASE_URL as string)],
    ...Object.values(collector.exporters).flatMap((e) =>
      [e.endpoint, e.metrics_endpoint]
        .filter((x): x is string => x !== undefined)
        .map((x): [string, string] => ['otel-collector', x]),
    ),
    ...prometheus.scrape_configs.flatMap((c) =>
      c.static_configs.flatMap((sc) => sc.targets.map((t): [string, string] => ['prometheus', t])),
    ),
    ...tempo.metrics_generator.storage.remote_write.map((w): [string, string] => ['tempo', w.url]),
  ];
}

/**
 * What each image ships that a healthcheck can run, as upstream documents it. A probe the image cannot run
 * leaves the container "unhealthy" forever and blocks every `depends_on: service_healthy` behind it.
 */
const IMAGE_PROBES: Record<string, { binaries: readonly string[]; source: string }> = {
  tracegram: { binaries: ['node'], source: 'Dockerfile: FROM node:24 (the node binary is on PATH)' },
  postgres: {
    binaries: ['pg_isready'],
    source: 'the official postgres image ships the PostgreSQL client tools',
  },
  'prom/prometheus': { binaries: ['wget'], source: 'built FROM quay.io/prometheus/busybox (busybox wget)' },
  'grafana/grafana': {
    binaries: ['curl'],
    source: 'curl is in the image for healthchecks (grafana/grafana#65547)',
  },
  // Distroless since Loki 3.6 / Tempo 2.9: no shell, no wget; the binaries probe themselves.
  'grafana/loki': { binaries: ['/usr/bin/loki'], source: '`loki -health` (grafana/loki#20313, #20149)' },
  'grafana/tempo': { binaries: ['/tempo'], source: '`tempo -health` (grafana/tempo#6608)' },
};
/** Where `<binary> -health` probes when no URL is given: /ready on the default HTTP port. */
const SELF_PROBE_DEFAULT = {
  '/usr/bin/loki': 'http://localhost:3100/ready',
  '/tempo': 'http://localhost:3200/ready',
};

/** Problems with one service's healthcheck: a binary its image lacks, or a probe of a port it does not serve. */
function healthcheckProblems(name: string, service: Service): string[] {
  const test = service.healthcheck?.test;
  if (test === undefined) return [];
  if (!Array.isArray(test) || test[0] !== 'CMD')
    return [`${name}: use the exec form [CMD, …]: not every image has a shell`];
  const [, binary = '', ...args] = test;
  const image = (service.image ?? '').replace(/:[^/]*$/, '');
  const probes = IMAGE_PROBES[image];
  if (probes === undefined) return [`${name}: nothing known about what ${image} ships`];
  if (!probes.binaries.includes(binary))
    return [`${name}: ${image} has no ${binary} (it has ${probes.binaries.join(', ')})`];
  if (binary === 'pg_isready') {
    const user = args[args.indexOf('-U') + 1];
    const db = args[args.indexOf('-d') + 1];
    return user === service.environment?.POSTGRES_USER && db === service.environment?.POSTGRES_DB
      ? []
      : [`${name}: pg_isready -U ${user} -d ${db} is not the configured user and database`];
  }
  const url =
    args.join(' ').match(/https?:\/\/[^\s'"`)]+/)?.[0] ??
    (args.includes('-health') ? SELF_PROBE_DEFAULT[binary as keyof typeof SELF_PROBE_DEFAULT] : undefined);
  if (url === undefined) return [`${name}: the healthcheck probes no URL`];
  return addressProblems(name, url).map((p) => `${name} healthcheck: ${p}`);
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

  test.each(Object.entries(services))(
    '%s: the healthcheck runs a binary its image ships and probes a port the service listens on',
    (name, service) => {
      expect(healthcheckProblems(name, service)).toEqual([]);
    },
  );

  test('the bot healthcheck probes a route the HTTP server serves', () => {
    const probe = [services.bot?.healthcheck?.test ?? []].flat().join(' ');
    const path = new URL(/http:\/\/[^'"]+/.exec(probe)?.[0] ?? '').pathname;
    expect(readText('src/server/http-server.ts')).toContain(`app.get('${path}'`);
  });

  test('ports are bound to 127.0.0.1, published from a port the service listens on, and documented', () => {
    const docs = readText('docs/observability.md');
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        const [, host = '', container = ''] = port.split(':');
        expect(listenPorts(name), `${name} publishes ${port}`).toContain(Number(container));
        expect(docs, `${name} port ${port}`).toContain(host);
      }
    }
  });

  test('every in-network address names a compose service and a port its config listens on', () => {
    const addresses = inNetworkAddresses();
    expect(addresses.length).toBeGreaterThan(8);
    expect(addresses.flatMap(([from, address]) => addressProblems(from, address))).toEqual([]);
  });

  test('the address and healthcheck checks bite', () => {
    expect(addressProblems('grafana', 'http://prometheus:9091')).toEqual([
      'http://prometheus:9091: prometheus listens on 9090, not 9091',
    ]);
    expect(addressProblems('grafana', 'http://tempo:3100').join()).toContain('tempo listens on 3200');
    expect(addressProblems('grafana', 'http://promethus:9090').join()).toContain('not a compose service');
    const loki = services.loki as Service;
    expect(
      healthcheckProblems('loki', {
        ...loki,
        healthcheck: { test: ['CMD', 'wget', '-q', 'http://localhost:3100/ready'] },
      }),
    ).toEqual(['loki: grafana/loki has no wget (it has /usr/bin/loki)']);
    const grafana = services.grafana as Service;
    expect(
      healthcheckProblems('grafana', {
        ...grafana,
        healthcheck: { test: ['CMD', 'curl', '-f', 'http://localhost:3001/api/health'] },
      }).join(),
    ).toContain('grafana listens on 3000, not 3001');
    expect(
      healthcheckProblems('grafana', { ...grafana, healthcheck: { test: 'curl -f http://localhost:3000' } }),
    ).toHaveLength(1);
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
    expect(bare).toEqual([]);
  });

  test('alerts go out through a bot of their own, never with BOT_TOKEN', () => {
    const token = String(services.grafana?.environment?.[GRAFANA_ENV.ALERT_BOT_TOKEN]);
    expect(token).toMatch(/^\$\{ALERT_BOT_TOKEN:-/);
    expect(token).not.toContain('BOT_TOKEN}');
    expect(token.replace('ALERT_BOT_TOKEN', '')).not.toContain('BOT_TOKEN');
  });

  test('/metrics has its own port: reachable inside the network for Prometheus, published on loopback only', () => {
    const env = services.bot?.environment ?? {};
    expect(env.METRICS_PORT).toBeDefined();
    expect(env.METRICS_PORT).not.toBe(env.PORT);
    expect(env.METRICS_HOST).toBe('0.0.0.0');
    expect(services.bot?.ports).toContain(`127.0.0.1:${env.METRICS_PORT}:${env.METRICS_PORT}`);
    // Prometheus keeps only `up` from it: the same series arrive by OTLP, and two copies would double every sum.
    const prometheus = configOf<{
      scrape_configs: {
        job_name: string;
        static_configs: { targets: string[] }[];
        metric_relabel_configs?: { action: string; regex: string }[];
      }[];
    }>('prometheus', '--config.file');
    const job = prometheus.scrape_configs.find((c) =>
      c.static_configs.some((sc) => sc.targets.includes(`bot:${env.METRICS_PORT}`)),
    );
    expect(job?.metric_relabel_configs).toEqual([expect.objectContaining({ action: 'drop', regex: '.+' })]);
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
  test('multi-stage on Node 24, non-root, with a healthcheck on /healthz, running the build of src/ with node', () => {
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:24\.\d+\.\d+/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(dockerfile).toMatch(/^COPY src \.\/src\n^RUN npm run build$/m);
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    expect(dockerfile).toContain(`CMD ["node", "${packageJson.scripts.start.replace(/^exec node /, '')}"]`);
  });
  test('the image gets every directory the app reads at run time (its build, locales, migrations)', () => {
    const ignored = readText('.dockerignore').split('\n');
    for (const dir of ['src', 'locales', 'migrations']) {
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

  test('the share of other traces kept defaults to 100% in compose, the collector and .env.example', () => {
    // Locally every update is a trace in Tempo (issue 3); TAIL_SAMPLING_PERCENTAGE lowers it.
    const composeDefault = /TAIL_SAMPLING_PERCENTAGE: \$\{TAIL_SAMPLING_PERCENTAGE:-(\d+)\}/.exec(
      readText('docker-compose.yml'),
    )?.[1];
    const collectorDefault = /sampling_percentage: \$\{env:TAIL_SAMPLING_PERCENTAGE:-(\d+)\}/.exec(
      readText(path),
    )?.[1];
    const exampleDefault = /^# ?TAIL_SAMPLING_PERCENTAGE=(\d+)/m.exec(readText('.env.example'))?.[1];
    expect([composeDefault, collectorDefault, exampleDefault]).toEqual(['100', '100', '100']);
    expect(service.environment).toHaveProperty(['TAIL_SAMPLING_PERCENTAGE']);
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
    // https://grafana.com/docs/tempo/v3.0.x/set-up-for-tracing/setup-tempo/upgrade/ (monolithic mode)
    for (const removed of ['ingester', 'ingester_client', 'compactor', 'metrics_generator_client']) {
      expect(config, removed).not.toHaveProperty([removed]);
    }
    const withoutComments = readText(path).replaceAll(/#.*$/gm, '');
    expect(withoutComments).not.toMatch(/local_blocks|local-blocks|metrics_generator_processors/);
  });

  test('uses only top-level blocks of the Tempo 3.0 configuration reference', () => {
    // An allowlist, not a blocklist: a 2.x block, a typo or a block from another version fails here. From
    // https://grafana.com/docs/tempo/v3.0.x/configuration/ (manifest); `tempo -config.verify` in the image
    // checks the rest (docs/observability.md).
    const TEMPO_3_TOP_LEVEL = [
      'target',
      'http_api_prefix',
      'stream_over_http_enabled',
      'multitenancy_enabled',
      'memory',
      'server',
      'internal_server',
      'distributor',
      'ingest',
      'block_builder',
      'live_store',
      'live_store_client',
      'querier',
      'query_frontend',
      'metrics_generator',
      'backend_scheduler',
      'backend_scheduler_client',
      'backend_worker',
      'storage',
      'overrides',
      'memberlist',
      'usage_report',
      'cache',
    ];
    expect(Object.keys(config).filter((key) => !TEMPO_3_TOP_LEVEL.includes(key))).toEqual([]);
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

  test('alert rules exist for the error ratio, silence, no updates, a dead bot or collector and telemetry', () => {
    expect(ALERT_RULES.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'TracegramErrorRatioHigh',
        'TracegramErrorRatioCritical',
        'TracegramSilentUpdate',
        'TracegramNoUpdates',
        'TracegramBotDown',
        'TracegramCollectorDown',
        'TracegramTelemetryDropping',
      ]),
    );
  });
});

describe('cross-references', () => {
  // Files of the stack that name other files of the repository in comments or prose.
  const FILES = [
    'docker-compose.yml',
    '.env.example',
    'docs/observability.md',
    'scripts/generate-observability.ts',
    ...yamlFiles('otel'),
    ...readdirSync(repoPath('grafana/as-code')).map((f) => join('grafana/as-code', f)),
    ...readdirSync(repoPath('test/observability'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join('test/observability', f)),
  ];
  const PATH =
    /(?<![\w/.-])((?:src|test|grafana|otel|scripts|docs|\.ci)\/[\w./-]*\.(?:ts|ya?ml|json|md|txt))\b/g;

  test.each(FILES)('%s names only files that exist', (file) => {
    const named = [...readFileSync(repoPath(file), 'utf8').matchAll(PATH)].map((m) => m[1] as string);
    expect(named.filter((p) => !existsSync(repoPath(p)))).toEqual([]);
  });

  test('the check bites: a renamed test is caught', () => {
    const stale = ['test', 'observability', 'cross-check.test.ts'].join('/');
    expect([...`# checked by ${stale}`.matchAll(PATH)].map((m) => m[1])).toEqual([stale]);
    expect(existsSync(repoPath(stale))).toBe(false);
  });
});

test('.ci/apt-packages.txt lists what the checks need', () => {
  expect(statSync(repoPath('.ci/apt-packages.txt')).isFile()).toBe(true);
  expect(readText('.ci/apt-packages.txt').split('\n')).toContain('prometheus');
});
