import { jobIdOfRef } from '../generation/job-ref.js';
import type { HistoryEntry } from '../generation/job-store.js';
import type { BotContext } from './context.js';

/**
 * The job a button names (its 32-hex reference), if it is the presser's own: a forged reference or
 * another user's job gives undefined, and nothing of it is read out. Every button that opens a job
 * (History, Repeat) asks here, so ownership is checked in one place.
 */
export async function ownJob(ctx: BotContext, ref: string | undefined): Promise<HistoryEntry | undefined> {
  const jobId = jobIdOfRef(ref);
  return jobId && ctx.from ? ctx.generation.jobOf(ctx.from.id, jobId) : undefined;
}
