/**
 * What happens to a claimed job, shared by workers and the reaper. The
 * terminal state is written to PostgreSQL with a conditional update, so
 * however often a job runs (lease lost, worker killed) its submission reaches
 * a terminal status exactly once, and only that winner caches and publishes.
 */
import { eq } from "drizzle-orm";
import { Counter, Gauge, Histogram } from "prom-client";
import type { Db } from "../../db/client";
import { packs, problems, submissions } from "../../db/schema";
import type { Engine, Job } from "../../engine/types";
import { catalogChannel, userChannel } from "../../engine/names";
import { registry } from "../../plugins/metrics";
import { judge, type JudgeResult } from "../../judge/judge";
import type { ExpectedResult, JudgeProblem } from "../../judge/judge";
import type { StoredTest } from "./catalog";
import type { Sandbox } from "../../sandbox/types";
import type { ProblemsModel } from "./model";
import { SubmissionLedger, type Started, type SubmissionRow } from "./ledger";

export const QUEUE = "problems";
export const RESULT_TTL_SEC = 300;
/** Runs of one submission (first run + requeues after lost leases) before it ends as internal_error. */
export const JUDGE_MAX_ATTEMPTS = 3;
/** Cached expected results are dropped on an import notice, and in any case after this long (a notice missed while Redis was down). */
const PROBLEM_CACHE_MS = 60_000;
/** A first attempt still running this long is marked `processing`; most trivial jobs end well before, with one write. */
export const RUNNING_MARK_MS = 100;

export const judgeMetrics = {
  verdicts: new Counter({ name: "huddle_judge_jobs_total", help: "Finished SQL jobs by verdict", labelNames: ["verdict"] as const, registers: [registry] }),
  wait: new Histogram({ name: "huddle_judge_queue_wait_seconds", help: "Time from submit to claim", buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers: [registry] }),
  run: new Histogram({ name: "huddle_judge_run_seconds", help: "Time to judge a claimed job", buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10], registers: [registry] }),
  /** Where a job's time goes (#14: judge at class scale), per stage of SubmissionJobs.run. */
  stage: new Histogram({
    name: "huddle_judge_stage_seconds",
    help: "Time per stage of judging a claimed job: start (a retry's processing update, group-committed; the problem's expected result), judge (guard, sandbox runs incl. hidden tests, comparison), finish (the terminal update, group-committed), announce (result cache and live frame)",
    labelNames: ["stage"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  }),
  depth: new Gauge({ name: "huddle_judge_queue_depth", help: "Jobs waiting in problems:queue (sampled at scrape)", registers: [registry] }),
};

/** Lets the queue depth gauge read the queue at scrape time. */
let depthSource: (() => Promise<number>) | null = null;
export function sampleQueueDepth(source: () => Promise<number>) {
  depthSource = source;
}
(judgeMetrics.depth as unknown as { collect: () => Promise<void> }).collect = async () => {
  try {
    if (depthSource) judgeMetrics.depth.set(await depthSource());
  } catch {
    // Redis down: keep the last sample
  }
};

/** What GET /problems/result/{id} answers, cached and published: the model's schema is the one source. */
export type ResultView = typeof ProblemsModel.result.static;

export function viewOf(s: SubmissionRow): ResultView {
  const r = (s.result ?? {}) as Partial<JudgeResult>;
  return {
    job_id: s.id, problem_id: s.problemId, status: s.status, verdict: s.verdict ?? null, rows_returned: s.rowsReturned ?? null,
    columns: r.columns ?? [], rows: r.rows ?? [], duration_ms: s.durationMs ?? null, error: s.error ?? null,
    sqlstate: r.sqlstate ?? null, position: r.position ?? null, hint: r.hint ?? null,
    created_at: s.createdAt.toISOString(), finished_at: s.finishedAt ? s.finishedAt.toISOString() : null,
  };
}

export class SubmissionJobs {
  private readonly problemCache = new Map<string, JudgeProblem & { until: number }>();
  private readonly ledger: SubmissionLedger;

  constructor(private readonly db: Db, private readonly engine: Engine, private readonly sqlTimeoutMs: number, private readonly outputBytes?: number) {
    this.ledger = new SubmissionLedger(db);
  }

  /**
   * Drops cached expected results whenever a pack is imported (by this or any
   * other instance, or by `huddle problems import`). Returns the unsubscribe.
   */
  watchImports(): Promise<() => Promise<void>> {
    return this.engine.broker.subscribe(catalogChannel, () => this.problemCache.clear());
  }

  /**
   * Judges a claimed job; returns once the submission is terminal (by this call or an earlier one).
   * A first attempt carries what judging needs (service.submit), so nothing is read or written before
   * the sandbox runs; `processing` ("Running…" to the user) is written only for a job still running after
   * RUNNING_MARK_MS. A retry marks it at once and so learns whether an earlier attempt already ended it.
   * A late mark cannot reopen a submission: both updates only move one that is still queued or processing.
   */
  async run(job: Job, sandbox: Pick<Sandbox, "run" | "job">): Promise<void> {
    judgeMetrics.wait.observe(Math.max(0, Date.now() - job.enqueued_at) / 1000);
    const lap = stopwatch();
    const carried = job.attempt === 1 ? carriedSubmission(job) : null;
    const sub = carried ?? (await this.ledger.start(job.id, job.attempt));
    if (!sub) return; // already terminal (an earlier run finished it) or unknown
    const mark = carried ? setTimeout(() => void this.ledger.start(job.id, job.attempt).catch(() => {}), RUNNING_MARK_MS) : undefined;
    let result: JudgeResult;
    try {
      const problem = await this.problem(sub.problemId);
      lap("start");
      const t0 = performance.now();
      result = problem
        ? await judge(sandbox, problem, sub.sqlQuery, { timeoutMs: this.sqlTimeoutMs, maxRows: 10_000, maxBytes: this.outputBytes, keepRows: 100 })
        : failure("the problem no longer exists");
      judgeMetrics.run.observe((performance.now() - t0) / 1000);
    } finally {
      clearTimeout(mark);
    }
    lap("judge");
    await this.finish(sub, result, lap, job.attempt);
  }

  /** The reaper's end for a job that used up its attempts; throws (and the reaper retries) while PostgreSQL is down. */
  async giveUp(job: Pick<Job, "id">): Promise<void> {
    const [sub] = await this.db.select().from(submissions).where(eq(submissions.id, job.id));
    if (sub) await this.finish(sub, failure(`the job failed ${JUDGE_MAX_ATTEMPTS} times (worker crashed or timed out)`));
  }

  private async finish(sub: Pick<SubmissionRow, "id" | "userId">, result: JudgeResult, lap: (stage: string) => void = () => {}, attempt?: number) {
    const status = result.verdict === "internal_error" ? "failed" : "completed";
    const done = await this.ledger.finish({
      id: sub.id, status, attempts: attempt, verdict: result.verdict, rowsReturned: result.rows_returned, durationMs: Math.round(result.duration_ms),
      error: result.error, finishedAt: new Date(),
      result: { columns: result.columns, rows: result.rows, sqlstate: result.sqlstate, position: result.position, hint: result.hint },
    });
    lap("finish");
    if (!done) return;
    judgeMetrics.verdicts.inc({ verdict: result.verdict });
    const view = viewOf(done);
    // Independent writes: sent together, so they cost one round trip (ioredis pipelines what is in flight).
    await Promise.all([
      this.engine.results.set(sub.id, JSON.stringify({ ...view, user_id: sub.userId }), RESULT_TTL_SEC).catch(() => {}),
      this.engine.broker.publish(userChannel(sub.userId), JSON.stringify({ type: "problem.result", ...view })).catch(() => {}),
    ]);
    lap("announce");
  }

  private async problem(id: string) {
    const hit = this.problemCache.get(id);
    if (hit && hit.until > Date.now()) return hit;
    const [row] = await this.db.select({ schema: packs.schema, ordered: problems.ordered, expected: problems.expected, tests: problems.tests })
      .from(problems).innerJoin(packs, eq(packs.id, problems.packId)).where(eq(problems.id, id));
    if (!row) return null;
    const tests = (row.tests as StoredTest[]).map((t) => ({ name: t.name, schema: t.schema, expected: t.expected }));
    const p = { schema: row.schema, ordered: row.ordered, expected: row.expected as ExpectedResult, tests, until: Date.now() + PROBLEM_CACHE_MS };
    this.problemCache.set(id, p);
    return p;
  }
}

/** Records the time since the previous lap under `stage`. */
function stopwatch(): (stage: string) => void {
  let last = performance.now();
  return (stage) => {
    const now = performance.now();
    judgeMetrics.stage.observe({ stage }, (now - last) / 1000);
    last = now;
  };
}

/** The submission as submit() queued it (user, problem, SQL), or null for a job without them (queued by an older version). */
function carriedSubmission(job: Job): Started | null {
  const { user_id: userId, problem_id: problemId, sql_query: sqlQuery } = job.data;
  if (typeof userId !== "string" || typeof problemId !== "string" || typeof sqlQuery !== "string") return null;
  return { id: job.id, userId, problemId, sqlQuery };
}

function failure(error: string): JudgeResult {
  return { verdict: "internal_error", error, sqlstate: null, position: null, hint: null, rows_returned: null, columns: [], rows: [], duration_ms: 0 };
}
