/**
 * `POST /problems/run`: a query run against a problem's main dataset, for the
 * user to look at before submitting. Same guard, limits and runner pool as
 * judging, but synchronous, nothing stored and no verdict. Bounded three
 * ways: a per-user rate limit, one run at a time per user, and a short queue
 * per instance (more waiting, or no runner free in RUN_QUEUE_MS, is a 503):
 * an interactive run answers quickly or says the judge is busy.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { packs, problems } from "../../db/schema";
import { BadRequest, NotFound, ServiceUnavailable, TooManyRequests } from "../../errors";
import { displayCell, failed, refuse, type JudgeResult } from "../../judge/judge";
import { rateLimited } from "../../plugins/metrics";
import type { RateLimit } from "../../plugins/rate-limit";
import type { RunLimits, RunOutcome } from "../../sandbox/types";
import { MAX_SQL_CHARS, type ProblemsModel } from "./model";

/** Rows a run shows; more are cut off (`truncated`), never an error. */
export const RUN_MAX_ROWS = 100;
/** Cell text a run may return in all. */
const RUN_MAX_BYTES = 512 * 1024;
/** How long a run waits for a free runner before it is a 503. */
export const RUN_QUEUE_MS = 2000;

/** What runs on: the judge's runner pool on this instance, once it is open. */
export interface RunSandbox {
  run(schema: string, sql: string, limits: RunLimits, queue?: { timeoutMs?: number }): Promise<RunOutcome>;
}
export type RunnerSlot = { current: RunSandbox | null };

type RunView = typeof ProblemsModel.runResult.static;

export class ProblemRuns {
  readonly #inFlight = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly limit: RateLimit,
    private readonly runners: RunnerSlot,
    private readonly opts: { timeoutMs: number; maxWaiting: number },
  ) {}

  async run(userId: string, problemId: string, sqlQuery: string): Promise<RunView> {
    if (sqlQuery.trim().length === 0 || sqlQuery.length > MAX_SQL_CHARS) {
      throw new BadRequest(`sql_query must be 1..${MAX_SQL_CHARS} characters`, [{ field: "sql_query", message: `length ${sqlQuery.length}` }]);
    }
    const [problem] = await this.db.select({ schema: packs.schema }).from(problems).innerJoin(packs, eq(packs.id, problems.packId)).where(eq(problems.id, problemId));
    if (!problem) throw new NotFound("problem");
    await this.limit("run", userId);
    if (this.#inFlight.has(userId)) {
      rateLimited.inc({ scope: "run-concurrent" });
      throw new TooManyRequests(1000, "runs at once (one at a time; wait for the previous one)");
    }
    const refused = await refuse(sqlQuery);
    if (refused) return view(refused);
    const pool = this.runners.current;
    if (!pool) throw new ServiceUnavailable("this instance runs no SQL runners (yet); try again shortly");
    if (this.#inFlight.size >= this.opts.maxWaiting) throw new ServiceUnavailable("the SQL runners are busy; try again in a few seconds");
    this.#inFlight.add(userId);
    try {
      const limits = { timeoutMs: this.opts.timeoutMs, maxRows: RUN_MAX_ROWS, maxBytes: RUN_MAX_BYTES, truncate: true };
      let outcome: RunOutcome;
      try {
        outcome = await pool.run(problem.schema, sqlQuery, limits, { timeoutMs: RUN_QUEUE_MS });
      } catch (err) {
        // PoolBusyError: no runner free in time, or the pool is closing.
        throw new ServiceUnavailable(`the SQL runners are busy (${(err as Error).message}); try again in a few seconds`);
      }
      if (!outcome.ok) return view(failed(outcome));
      return {
        columns: outcome.columns, rows: outcome.rows.map((row) => row.map(displayCell)), rows_returned: outcome.rows.length,
        truncated: outcome.truncated, duration_ms: outcome.duration_ms, error: null,
      };
    } finally {
      this.#inFlight.delete(userId);
    }
  }
}

/** A query that did not run to completion: no rows, the error for the page (caret at `position`). */
function view(result: JudgeResult): RunView {
  return {
    columns: [], rows: [], rows_returned: null, truncated: false, duration_ms: result.duration_ms,
    error: { verdict: result.verdict, message: result.error ?? result.verdict, sqlstate: result.sqlstate, position: result.position, hint: result.hint },
  };
}
