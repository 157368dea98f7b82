import {
  type AttributeValue,
  type SpanEventView,
  type SpanView,
  sortSpans,
  spanKindName,
  statusName,
} from './trace-view.js';

/**
 * Reads a trace in OTLP JSON, as Tempo's trace-by-id API answers it (`/api/v2/traces/<id>`:
 * `{ trace: { resourceSpans } }`; `/api/traces/<id>`: `{ batches }`; a bare OTLP export request:
 * `{ resourceSpans }`). Ids may be hex (the OTLP/JSON spec) or base64 (protobuf's JSON mapping, which
 * Tempo uses); enums may be numbers or their names; 64-bit integers may be strings.
 */

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpEvent {
  name?: string;
  timeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
}
interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number | string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: OtlpKeyValue[];
  events?: OtlpEvent[];
  status?: { code?: number | string; message?: string };
}
interface OtlpResourceSpans {
  scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  /** Older Tempo versions (OTLP before 0.15). */
  instrumentationLibrarySpans?: Array<{ spans?: OtlpSpan[] }>;
}

/** Hex of an OTLP id in either encoding; empty or all-zero ids (no parent) become undefined. */
export function otlpId(id: string | undefined, hexLength: 16 | 32): string | undefined {
  if (!id) return undefined;
  const hex = new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(id)
    ? id.toLowerCase()
    : Buffer.from(id, 'base64').toString('hex');
  return hex.length === hexLength && !/^0+$/.test(hex) ? hex : undefined;
}

function nanosToMs(value: string | number | undefined): number {
  if (value === undefined) return 0;
  const nanos = BigInt(value);
  return Number(nanos / 1000n) / 1000;
}

function anyValue(value: OtlpAnyValue | undefined): AttributeValue | undefined {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return JSON.stringify((value.arrayValue.values ?? []).map(anyValue));
  return undefined;
}

export function otlpAttributes(list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) {
    const plain = anyValue(value);
    if (plain !== undefined) out[key] = plain;
  }
  return out;
}

const KIND_NAMES: Record<string, number> = {
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_NAMES: Record<string, number> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

function enumValue(value: number | string | undefined, names: Record<string, number>): number {
  if (typeof value === 'number') return value;
  return value === undefined ? 0 : (names[value] ?? 0);
}

/** OTLP's span kind counts from 1 (INTERNAL); the OTel API's from 0. */
function apiKind(otlpKind: number): number {
  return otlpKind > 0 ? otlpKind - 1 : 0;
}

/** Every span in an OTLP JSON document, for one trace id when given. */
export function spanViewsFromOtlp(document: unknown, traceId?: string): SpanView[] {
  const root = (document ?? {}) as {
    trace?: { resourceSpans?: OtlpResourceSpans[] };
    resourceSpans?: OtlpResourceSpans[];
    batches?: OtlpResourceSpans[];
  };
  const resources = root.trace?.resourceSpans ?? root.resourceSpans ?? root.batches ?? [];
  const spans: SpanView[] = [];
  for (const resource of resources) {
    for (const scope of [...(resource.scopeSpans ?? []), ...(resource.instrumentationLibrarySpans ?? [])]) {
      for (const span of scope.spans ?? []) {
        if (traceId && otlpId(span.traceId, 32) !== traceId) continue;
        const spanId = otlpId(span.spanId, 16);
        if (!spanId) continue;
        const startMs = nanosToMs(span.startTimeUnixNano);
        const events: SpanEventView[] = (span.events ?? []).map((event) => ({
          name: event.name ?? '',
          timeMs: nanosToMs(event.timeUnixNano),
          attributes: otlpAttributes(event.attributes),
        }));
        spans.push({
          spanId,
          parentSpanId: otlpId(span.parentSpanId, 16),
          name: span.name ?? '',
          kind: spanKindName(apiKind(enumValue(span.kind, KIND_NAMES))),
          startMs,
          durationMs: Math.max(0, nanosToMs(span.endTimeUnixNano) - startMs),
          attributes: otlpAttributes(span.attributes),
          status: statusName(enumValue(span.status?.code, STATUS_NAMES)),
          statusMessage: span.status?.message || undefined,
          events,
        });
      }
    }
  }
  return sortSpans(spans);
}
