import type { Queryable } from '../store/index.js';
import type { ReasonCode } from '../telemetry/reason-codes.js';

const TABLE = 'jobs';

export const OPEN_STATES = ['queued', 'running', 'submitted', 'delivering'] as const;
export const FINAL_STATES = ['delivered', 'failed', 'undeliverable'] as const;
export type OpenState = (typeof OPEN_STATES)[number];
export type FinalState = (typeof FINAL_STATES)[number];
export type JobState = OpenState | FinalState;

/** How a delivered result went to the chat: re-sending it from History uses the same method. */
export type ResultKind = 'photo' | 'document';

/** The copy of a delivered result Telegram keeps: History re-sends it by file_id, without the provider. */
export interface DeliveredFile {
  fileId: string;
  kind: ResultKind;
}

export interface JobInput {
  prompt: string;
  options: Record<string, string>;
}

export interface Job {
  id: string;
  userId: number;
  chatId: number;
  model: string;
  input: JobInput;
  price: number;
  state: JobState;
  reasonCode: ReasonCode | undefined;
  providerTaskId: string | undefined;
  resultUrl: string | undefined;
  locale: string;
  traceparent: string;
  cid: string;
  deadlineAt: Date;
  createdAt: Date;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
  /** Set once delivered (absent if Telegram's answer carried no file). */
  resultFile: DeliveredFile | undefined;
  /** The delivered job whose Repeat button made this one. */
  repeatOf: string | undefined;
}

export type NewJob = Pick<
  Job,
  'id' | 'userId' | 'chatId' | 'model' | 'input' | 'price' | 'locale' | 'traceparent' | 'cid' | 'deadlineAt'
> & { repeatOf?: string | undefined };

/** A line of History: the job and whether its reservation went back to the user. */
export interface HistoryEntry {
  job: Job;
  refunded: boolean;
}

interface JobRow {
  id: string;
  user_id: string | number;
  chat_id: string | number;
  model: string;
  input: JobInput;
  price: number;
  state: JobState;
  reason_code: string | null;
  provider_task_id: string | null;
  result_url: string | null;
  locale: string;
  traceparent: string;
  cid: string;
  deadline_at: Date | string;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
  result_file_id: string | null;
  result_kind: ResultKind | null;
  repeat_of: string | null;
}

const date = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

function jobOf(row: JobRow): Job {
  return {
    id: row.id,
    userId: Number(row.user_id),
    chatId: Number(row.chat_id),
    model: row.model,
    input: row.input,
    price: row.price,
    state: row.state,
    reasonCode: (row.reason_code ?? undefined) as ReasonCode | undefined,
    providerTaskId: row.provider_task_id ?? undefined,
    resultUrl: row.result_url ?? undefined,
    locale: row.locale,
    traceparent: row.traceparent,
    cid: row.cid,
    deadlineAt: date(row.deadline_at),
    createdAt: date(row.created_at),
    startedAt: row.started_at === null ? undefined : date(row.started_at),
    finishedAt: row.finished_at === null ? undefined : date(row.finished_at),
    resultFile:
      row.result_file_id === null || row.result_kind === null
        ? undefined
        : { fileId: row.result_file_id, kind: row.result_kind },
    repeatOf: row.repeat_of ?? undefined,
  };
}

/** A job with whether the ledger holds its refund (ledger_job_settled_once finds it). */
const HISTORY_SELECT = `SELECT j.*, EXISTS (
    SELECT 1 FROM ledger_entries e WHERE e.job_id = j.id::text AND e.kind = 'refund'
  ) AS refunded FROM ${TABLE} j`;
type HistoryRow = JobRow & { refunded: boolean };

function historyEntryOf(row: HistoryRow): HistoryEntry {
  return { job: jobOf(row), refunded: row.refunded };
}

/**
 * The jobs table. Every transition is one conditional UPDATE … RETURNING: it returns the job when this
 * caller made the change and undefined when someone else (another worker, a duplicate callback, the
 * sweep) already had, which is how "exactly once" holds across processes.
 */
export const jobStore = {
  /**
   * False when the job repeats a result that already has an open repeat (jobs_one_open_repeat): the
   * caller's transaction must then be rolled back, reservation included.
   */
  async create(tx: Queryable, job: NewJob): Promise<boolean> {
    const { rowCount } = await tx.query(
      `INSERT INTO ${TABLE}
         (id, user_id, chat_id, model, input, price, locale, traceparent, cid, deadline_at, repeat_of)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (repeat_of)
         WHERE repeat_of IS NOT NULL AND state IN ('queued', 'running', 'submitted', 'delivering')
         DO NOTHING`,
      [
        job.id,
        job.userId,
        job.chatId,
        job.model,
        JSON.stringify(job.input),
        job.price,
        job.locale,
        job.traceparent,
        job.cid,
        job.deadlineAt.toISOString(),
        job.repeatOf ?? null,
      ],
      { operation: 'INSERT', table: TABLE },
    );
    return rowCount === 1;
  },

  /** A job of this user's, or undefined: a job id from callback data opens nothing of anyone else's. */
  async ofUser(db: Queryable, id: string, userId: number): Promise<HistoryEntry | undefined> {
    const { rows } = await db.query<HistoryRow>(
      `${HISTORY_SELECT} WHERE j.id = $1 AND j.user_id = $2`,
      [id, userId],
      { operation: 'SELECT', table: TABLE },
    );
    return rows[0] ? historyEntryOf(rows[0]) : undefined;
  },

  /** A user's jobs, newest first (jobs_by_user serves the order). */
  async history(db: Queryable, userId: number, limit: number, offset: number): Promise<HistoryEntry[]> {
    const { rows } = await db.query<HistoryRow>(
      `${HISTORY_SELECT} WHERE j.user_id = $1 ORDER BY j.created_at DESC, j.id LIMIT $2 OFFSET $3`,
      [userId, limit, offset],
      { operation: 'SELECT', table: TABLE },
    );
    return rows.map(historyEntryOf);
  },

  async get(db: Queryable, id: string): Promise<Job | undefined> {
    const { rows } = await db.query<JobRow>(`SELECT * FROM ${TABLE} WHERE id = $1`, [id], {
      operation: 'SELECT',
      table: TABLE,
    });
    return rows[0] ? jobOf(rows[0]) : undefined;
  },

  async byTaskId(db: Queryable, taskId: string): Promise<Job | undefined> {
    const { rows } = await db.query<JobRow>(`SELECT * FROM ${TABLE} WHERE provider_task_id = $1`, [taskId], {
      operation: 'SELECT',
      table: TABLE,
    });
    return rows[0] ? jobOf(rows[0]) : undefined;
  },

  /** queued → running: the one worker that gets the job back runs it. */
  async take(db: Queryable, id: string): Promise<Job | undefined> {
    return transition(db, id, ['queued'], `state = 'running', started_at = now()`, []);
  },

  /** running → submitted, with the provider's task id. */
  async submitted(db: Queryable, id: string, taskId: string): Promise<Job | undefined> {
    return transition(db, id, ['running'], `state = 'submitted', provider_task_id = $2`, [taskId]);
  },

  /**
   * running|submitted → delivering: the first callback for a task wins; a duplicate or late one gets
   * undefined. `running` too, because a fast provider may call back before the worker has recorded the
   * task id its submit returned.
   */
  async resultArrived(
    db: Queryable,
    id: string,
    taskId: string,
    resultUrl: string,
  ): Promise<Job | undefined> {
    return transition(
      db,
      id,
      ['running', 'submitted'],
      `state = 'delivering', provider_task_id = $2, result_url = $3`,
      [taskId, resultUrl],
    );
  },

  /** delivering → delivered, with Telegram's copy of the result for History. */
  async delivered(db: Queryable, id: string, file: DeliveredFile | undefined): Promise<Job | undefined> {
    return transition(
      db,
      id,
      ['delivering'],
      `state = 'delivered', reason_code = 'SUCCESS', finished_at = now(), result_file_id = $2, result_kind = $3`,
      [file?.fileId ?? null, file?.kind ?? null],
    );
  },

  /** Any open state → a final one, once. */
  async finish(
    db: Queryable,
    id: string,
    from: readonly OpenState[],
    to: FinalState,
    reasonCode: ReasonCode,
  ): Promise<Job | undefined> {
    return transition(db, id, from, `state = $2, reason_code = $3, finished_at = now()`, [to, reasonCode]);
  },

  /**
   * Open jobs past their deadline, oldest first. A job being delivered gets `deliveryGraceS` more: its
   * result is on the way to the user, and failing it now would refund a result they are about to get.
   */
  async expired(db: Queryable, now: Date, deliveryGraceS: number, limit: number): Promise<Job[]> {
    const { rows } = await db.query<JobRow>(
      `SELECT * FROM ${TABLE}
       WHERE (state IN ('queued', 'running', 'submitted') AND deadline_at < $1)
          OR (state = 'delivering' AND deadline_at < $2)
       ORDER BY deadline_at LIMIT $3`,
      [now.toISOString(), new Date(now.getTime() - deliveryGraceS * 1000).toISOString(), limit],
      { operation: 'SELECT', table: TABLE },
    );
    return rows.map(jobOf);
  },

  /** How many jobs are in each open state, and how long the oldest queued one has waited. */
  async backlog(
    db: Queryable,
    now: Date,
  ): Promise<{ byState: Record<OpenState, number>; oldestQueuedS: number }> {
    const { rows } = await db.query<{
      state: OpenState;
      count: string | number;
      oldest: Date | string | null;
    }>(
      `SELECT state, count(*) AS count, min(created_at) AS oldest FROM ${TABLE}
       WHERE state = ANY($1::text[]) GROUP BY state`,
      [OPEN_STATES],
      { operation: 'SELECT', table: TABLE },
    );
    const byState = Object.fromEntries(OPEN_STATES.map((state) => [state, 0])) as Record<OpenState, number>;
    let oldestQueuedS = 0;
    for (const row of rows) {
      byState[row.state] = Number(row.count);
      if (row.state === 'queued' && row.oldest !== null) {
        oldestQueuedS = Math.max(0, (now.getTime() - date(row.oldest).getTime()) / 1000);
      }
    }
    return { byState, oldestQueuedS };
  },
};

async function transition(
  db: Queryable,
  id: string,
  from: readonly OpenState[],
  set: string,
  params: readonly unknown[],
): Promise<Job | undefined> {
  const fromIndex = params.length + 2;
  const { rows } = await db.query<JobRow>(
    `UPDATE ${TABLE} SET ${set} WHERE id = $1 AND state = ANY($${fromIndex}::text[]) RETURNING *`,
    [id, ...params, from],
    { operation: 'UPDATE', table: TABLE },
  );
  return rows[0] ? jobOf(rows[0]) : undefined;
}
