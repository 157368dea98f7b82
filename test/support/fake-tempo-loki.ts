import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/**
 * Tempo's and Loki's query APIs on 127.0.0.1, answering from what the bot exported, in the formats those
 * APIs document: Tempo's trace by id (`/api/v2/traces/<id>`: `{ trace: <OTLP JSON> }`, ids base64 as in
 * protobuf's JSON mapping) and search (`/api/search`: `{ traces: [{ traceID }] }`); Loki's `query_range`
 * (`resultType: "streams"`, structured metadata categorised when the client asks). Loki's OTLP ingestion
 * is mirrored: the body is the line, attributes and trace context become structured metadata with dots
 * turned into underscores, `service.name` becomes the stream label `service_name`.
 */
export interface FakeTempoLoki {
  tempoUrl: string;
  lokiUrl: string;
  requests: string[];
  stop(): Promise<void>;
}

const toBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

export async function startFakeTempoLoki(data: {
  spans: () => readonly ReadableSpan[];
  logs: () => readonly ReadableLogRecord[];
}): Promise<FakeTempoLoki> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    requests.push(`${url.pathname}${url.search}`);
    const json = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    const traceById = /^\/tempo\/api\/v2\/traces\/([0-9a-f]{32})$/.exec(url.pathname);
    if (traceById) {
      const spans = data.spans().filter((s) => s.spanContext().traceId === traceById[1]);
      if (spans.length === 0) return json(404, { error: 'trace not found' });
      const otlp = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest([...spans])));
      for (const resource of otlp.resourceSpans) {
        for (const scope of resource.scopeSpans) {
          for (const span of scope.spans) {
            span.traceId = toBase64(span.traceId);
            span.spanId = toBase64(span.spanId);
            if (span.parentSpanId) span.parentSpanId = toBase64(span.parentSpanId);
            span.kind = `SPAN_KIND_${['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'][span.kind]}`;
          }
        }
      }
      return json(200, { trace: otlp, status: 'COMPLETE' });
    }
    if (url.pathname === '/tempo/api/search') {
      const q = url.searchParams.get('q') ?? '';
      const start = Number(url.searchParams.get('start') ?? 0) * 1000;
      const linkedTo = /\{\s*link:traceID\s*=\s*"([0-9a-f]{32})"\s*\}/.exec(q)?.[1];
      if (linkedTo) {
        const ids = new Set(
          data
            .spans()
            .filter((s) => s.links.some((link) => link.context.traceId === linkedTo))
            .map((s) => s.spanContext().traceId),
        );
        return json(200, { traces: [...ids].map((traceID) => ({ traceID })) });
      }
      const condition = /\{\s*span\.([\w.]+)\s*=\s*"([^"]*)"\s*\}/.exec(q);
      const roots = data
        .spans()
        .filter((s) => !s.parentSpanContext)
        .filter((s) => s.startTime[0] * 1000 >= start)
        .filter((s) => !condition || s.attributes[condition[1] as string] === condition[2]);
      return json(200, {
        traces: roots.map((s) => ({
          // Tempo drops leading zeros.
          traceID: s.spanContext().traceId.replace(/^0+/, ''),
          rootServiceName: 'tracegram',
          rootTraceName: s.name,
          startTimeUnixNano: String(s.startTime[0] * 1e9 + s.startTime[1]),
        })),
      });
    }
    if (url.pathname === '/loki/loki/api/v1/query_range') {
      const query = url.searchParams.get('query') ?? '';
      const exact = /\| trace_id="([0-9a-f]{32})"/.exec(query);
      const prefix = /\| trace_id=~"([0-9a-f]+)\.\*"/.exec(query);
      const anyOf = /\| trace_id=~"([0-9a-f|]+)"/.exec(query)?.[1]?.split('|');
      if (!exact && !prefix && !anyOf) return json(400, { error: `the fake does not understand ${query}` });
      const categorised = request.headers['x-loki-response-encoding-flags'] === 'categorize-labels';
      const records = data.logs().filter((record) => {
        const id = record.spanContext?.traceId ?? '';
        if (exact) return id === exact[1];
        if (prefix) return id.startsWith(prefix[1] ?? '-');
        return anyOf?.includes(id) ?? false;
      });
      const result = records.map((record) => {
        const metadata: Record<string, string> = {
          trace_id: record.spanContext?.traceId ?? '',
          span_id: record.spanContext?.spanId ?? '',
          severity_text: record.severityText ?? '',
        };
        for (const [key, value] of Object.entries(record.attributes))
          metadata[key.replaceAll('.', '_')] = String(value);
        const stream = { service_name: String(record.resource.attributes['service.name'] ?? 'unknown') };
        const nanos = String(BigInt(record.hrTime[0]) * 1_000_000_000n + BigInt(record.hrTime[1]));
        return categorised
          ? { stream, values: [[nanos, String(record.body ?? ''), { structuredMetadata: metadata }]] }
          : { stream: { ...stream, ...metadata }, values: [[nanos, String(record.body ?? '')]] };
      });
      return json(200, { status: 'success', data: { resultType: 'streams', result, stats: {} } });
    }
    json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    tempoUrl: `${base}/tempo`,
    lokiUrl: `${base}/loki`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
