/** A GET that answers JSON, a 404, or why it could not: the remote sources' one way to ask. */
export type JsonAnswer =
  | { readonly status: 'ok'; readonly body: unknown }
  | { readonly status: 'not-found' }
  | { readonly status: 'unreachable'; readonly message: string };

export async function getJson(
  url: string,
  init: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<JsonAnswer> {
  const where = new URL(url);
  const label = `${where.origin}${where.pathname}`;
  try {
    const response = await fetch(url, {
      headers: { accept: 'application/json', ...init.headers },
      signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
    });
    if (response.status === 404) return { status: 'not-found' };
    if (!response.ok) {
      return { status: 'unreachable', message: `${label} answered HTTP ${response.status}` };
    }
    return { status: 'ok', body: await response.json() };
  } catch (error) {
    // fetch hides the reason in `cause`: ECONNREFUSED, ENOTFOUND, a timeout, "bad port".
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      cause?.code ??
      cause?.message ??
      (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    return { status: 'unreachable', message: `${label} could not be reached (${reason})` };
  }
}
