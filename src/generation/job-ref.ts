/**
 * How a job travels in callback data (History's entries, Repeat): its uuid as 32 hex digits, within the
 * registry's argument pattern and Telegram's 64 bytes. Anything else decodes to undefined, never to a query.
 */
const REF = /^[0-9a-f]{32}$/;

export function jobRef(jobId: string): string {
  return jobId.replaceAll('-', '');
}

export function jobIdOfRef(ref: string | undefined): string | undefined {
  if (ref === undefined || !REF.test(ref)) return undefined;
  return `${ref.slice(0, 8)}-${ref.slice(8, 12)}-${ref.slice(12, 16)}-${ref.slice(16, 20)}-${ref.slice(20)}`;
}
