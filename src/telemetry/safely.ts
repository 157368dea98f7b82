import { diag } from '@opentelemetry/api';

/** Runs telemetry work that must never throw into the product; a failure goes to the OTel diag logger. */
export function safely(what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    diag.error(`${what} failed`, error);
  }
}
