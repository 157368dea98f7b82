import { logsUrl, traceUrl } from '../telemetry/grafana.js';
import type { LinkSigner } from './signed-link.js';

export interface TraceLink {
  readonly label: string;
  readonly href: string;
}

/**
 * Every way to open one trace: the bot's own signed trace page (always: the embedded default needs no
 * stack), and with GRAFANA_URL the Explore views of the trace in Tempo and its logs in Loki.
 */
export function traceLinks(
  cid: string,
  options: {
    pageBaseUrl?: string | undefined;
    signer?: LinkSigner | undefined;
    grafanaUrl?: string | undefined;
  },
): TraceLink[] {
  const links: TraceLink[] = [];
  if (options.signer && options.pageBaseUrl) {
    links.push({
      label: 'trace page',
      href: `${options.pageBaseUrl.replace(/\/+$/, '')}${options.signer.tracePath(cid)}`,
    });
  }
  if (options.grafanaUrl) {
    links.push({ label: 'Tempo', href: traceUrl(options.grafanaUrl, cid) });
    links.push({ label: 'Loki', href: logsUrl(options.grafanaUrl, cid) });
  }
  return links;
}
