/**
 * The two writes a judged job makes to `submissions` (it starts: status
 * processing and the attempt, written by a retry and by a first attempt only
 * once it runs for a while; it ends: the terminal status and result), each
 * group-committed: the workers' calls in flight together become one UPDATE
 * over a JSON batch. The conditions are the single-row ones, so exactly-once
 * holds as before: a submission leaves queued/processing once, and only the
 * caller whose update moved it learns so (a second finish of the same id in
 * one batch is told it lost).
 */
import { sql } from "drizzle-orm";
import { rowsOf, type Db } from "../../db/client";
import type { submissions } from "../../db/schema";
import { GroupCommit } from "../../lib/group-commit";

export type SubmissionRow = typeof submissions.$inferSelect;
/** What a worker needs of a submission it is about to judge. */
export type Started = Pick<SubmissionRow, "id" | "userId" | "problemId" | "sqlQuery">;
/** `attempts`: the run that ended it, for a first attempt that never wrote its start (absent: left as it is). */
export type Ending = Pick<SubmissionRow, "id" | "status" | "verdict" | "rowsReturned" | "durationMs" | "error" | "result"> & { finishedAt: Date; attempts?: number };

const OPEN = sql`s.status in ('queued', 'processing')`;

export class SubmissionLedger {
  private readonly starts: GroupCommit<{ id: string; attempt: number }, Started | null>;
  private readonly ends: GroupCommit<Ending, SubmissionRow | null>;

  constructor(private readonly db: Db) {
    this.starts = new GroupCommit((items) => this.writeStarts(items));
    this.ends = new GroupCommit((items) => this.writeEnds(items));
  }

  /** Marks the submission processing with this attempt; null when it is terminal already (or unknown). */
  start(id: string, attempt: number): Promise<Started | null> {
    return this.starts.submit({ id, attempt });
  }

  /** Writes the terminal state; the stored row when this call ended the submission, else null. */
  finish(end: Ending): Promise<SubmissionRow | null> {
    return this.ends.submit(end);
  }

  private async writeStarts(items: { id: string; attempt: number }[]): Promise<(Started | null)[]> {
    const rows = rowsOf(await this.db.execute(sql`
      update submissions s set status = 'processing', attempts = v.attempt
      from jsonb_to_recordset(${JSON.stringify(items)}::jsonb) as v(id uuid, attempt int)
      where s.id = v.id and ${OPEN}
      returning s.id, s.user_id, s.problem_id, s.sql_query`));
    const byId = new Map(rows.map((r) => [r.id as string, { id: r.id as string, userId: r.user_id as string, problemId: r.problem_id as string, sqlQuery: r.sql_query as string }]));
    return items.map((i) => byId.get(i.id) ?? null);
  }

  private async writeEnds(items: Ending[]): Promise<(SubmissionRow | null)[]> {
    const first = new Map<string, Ending>();
    for (const e of items) if (!first.has(e.id)) first.set(e.id, e);
    const batch = [...first.values()].map((e) => ({
      id: e.id, status: e.status, verdict: e.verdict, rows_returned: e.rowsReturned, duration_ms: e.durationMs,
      error: e.error, finished_at: e.finishedAt.toISOString(), result: e.result, attempts: e.attempts ?? null,
    }));
    const rows = rowsOf(await this.db.execute(sql`
      update submissions s set status = v.status, verdict = v.verdict, rows_returned = v.rows_returned, duration_ms = v.duration_ms,
        error = v.error, finished_at = v.finished_at, result = v.result, attempts = coalesce(v.attempts, s.attempts)
      from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb)
        as v(id uuid, status text, verdict text, rows_returned int, duration_ms int, error text, finished_at timestamptz, result jsonb, attempts int)
      where s.id = v.id and ${OPEN}
      returning s.*`));
    const byId = new Map(rows.map((r) => [r.id as string, rowOf(r)]));
    // Only the first ending of an id in the batch may have moved it; a repeat is told it lost.
    return items.map((e) => (first.get(e.id) === e ? byId.get(e.id) ?? null : null));
  }
}

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(v as string));

/** A raw `submissions` row (snake_case; timestamps as text from postgres.js, Date from PGlite) as drizzle would type it. */
function rowOf(r: Record<string, unknown>): SubmissionRow {
  return {
    id: r.id as string, userId: r.user_id as string, problemId: r.problem_id as string, sqlQuery: r.sql_query as string,
    clientId: (r.client_id as string | null) ?? null, status: r.status as SubmissionRow["status"], verdict: (r.verdict as string | null) ?? null,
    rowsReturned: (r.rows_returned as number | null) ?? null, durationMs: (r.duration_ms as number | null) ?? null,
    error: (r.error as string | null) ?? null, result: typeof r.result === "string" ? JSON.parse(r.result) : (r.result ?? null),
    attempts: r.attempts as number, createdAt: date(r.created_at)!, finishedAt: date(r.finished_at),
  };
}
