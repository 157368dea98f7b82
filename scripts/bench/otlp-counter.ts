import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** What one bot (one path prefix) has exported so far. */
export interface ExportCounts {
  spans: number;
  logRecords: number;
  metricRequests: number;
  requests: number;
}

export interface OtlpCounter {
  /** `http://127.0.0.1:<port>/<prefix>`: give each bot its own prefix as OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint(prefix: string): string;
  counts(prefix: string): ExportCounts;
  /** Stop answering: requests are read and then left hanging, like a collector behind a black hole. */
  setBlackHole(on: boolean): void;
  close(): Promise<void>;
}

/**
 * A local OTLP/HTTP receiver that only counts: spans and log records per path prefix, in either
 * encoding (protobuf or JSON, gzip or not). Counting protobuf needs no schema: traces and logs share the
 * shape `repeated Resource* = 1 { repeated Scope* = 2 { repeated Item = 2 } }`.
 */
export async function startOtlpCounter(): Promise<OtlpCounter> {
  const byPrefix = new Map<string, ExportCounts>();
  const hanging = new Set<IncomingMessage>();
  let blackHole = false;
  const countsOf = (prefix: string): ExportCounts => {
    let counts = byPrefix.get(prefix);
    if (!counts) {
      counts = { spans: 0, logRecords: 0, metricRequests: 0, requests: 0 };
      byPrefix.set(prefix, counts);
    }
    return counts;
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (blackHole) {
        hanging.add(req);
        return;
      }
      const match = /^\/([^/]+)\/v1\/(traces|logs|metrics)$/.exec(req.url ?? '');
      if (!match) {
        res.writeHead(404).end();
        return;
      }
      const [, prefix = '', signal] = match;
      const counts = countsOf(prefix);
      counts.requests += 1;
      try {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const json = String(req.headers['content-type']).includes('json');
        if (signal === 'traces')
          counts.spans += json ? countJson(body, 'resourceSpans', 'scopeSpans', 'spans') : countProto(body);
        else if (signal === 'logs')
          counts.logRecords += json
            ? countJson(body, 'resourceLogs', 'scopeLogs', 'logRecords')
            : countProto(body);
        else counts.metricRequests += 1;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const json = String(req.headers['content-type']).includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : undefined);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: (prefix) => `http://127.0.0.1:${port}/${prefix}`,
    counts: (prefix) => ({ ...countsOf(prefix) }),
    setBlackHole(on) {
      blackHole = on;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const req of hanging) req.socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function countJson(body: Buffer, resourceKey: string, scopeKey: string, itemKey: string): number {
  const request = JSON.parse(body.toString('utf8')) as Record<
    string,
    Array<Record<string, Array<Record<string, unknown[]>>>>
  >;
  let count = 0;
  for (const resource of request[resourceKey] ?? []) {
    for (const scope of resource[scopeKey] ?? []) count += scope[itemKey]?.length ?? 0;
  }
  return count;
}

/** Counts field 2 inside field 2 inside field 1 (length-delimited), walking the protobuf wire format. */
function countProto(body: Buffer): number {
  let count = 0;
  for (const resource of fields(body, 0, body.length, 1)) {
    for (const scope of fields(body, resource.start, resource.end, 2)) {
      count += [...fields(body, scope.start, scope.end, 2)].length;
    }
  }
  return count;
}

function* fields(
  buf: Buffer,
  start: number,
  end: number,
  wanted: number,
): Generator<{ start: number; end: number }> {
  let pos = start;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const byte = buf[pos++] as number;
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
    }
  };
  while (pos < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === 0) varint();
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const length = varint();
      if (field === wanted) yield { start: pos, end: pos + length };
      pos += length;
    } else throw new Error(`unsupported protobuf wire type ${wireType}`);
  }
}
