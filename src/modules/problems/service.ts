/**
 * Catalog reads and submissions. A submission is a `submissions` row
 * (PostgreSQL, permanent) plus a job on problems:queue (Redis); the result is
 * cached in Redis for 5 minutes and read from PostgreSQL afterwards.
 */
import { and, asc, desc, eq, sql } from "drizzle-orm";
import { rowsOf, type Db } from "../../db/client";
import { packs, problems, submissions } from "../../db/schema";
import { BadRequest, NotFound, ServiceUnavailable, TooManyRequests } from "../../errors";
import { EngineUnavailableError } from "../../engine/errors";
import type { Engine } from "../../engine/types";
import type { RateLimit } from "../../plugins/rate-limit";
import { rateLimited } from "../../plugins/metrics";
import { QUEUE, sampleQueueDepth, viewOf, type ResultView } from "./jobs";
import { MAX_SQL_CHARS } from "./model";
import { NO_STATS, problemStats, userProgress } from "./stats";

/** Rows of the expected result a `show_expected` problem previews. */
const PREVIEW_ROWS = 5;

const MAX_PENDING_PER_USER = 5;

export class ProblemsService {
  constructor(private readonly db: Db, private readonly engine: Engine, private readonly limit: RateLimit) {
    sampleQueueDepth(() => this.engine.queue(QUEUE).depth());
  }

  private solvedBy(userId: string) {
    // Qualified by hand: inside the subquery a bare "id" would be submissions.id.
    return sql<boolean>`exists(select 1 from submissions s where s.user_id = ${userId} and s.problem_id = "problems"."id" and s.verdict = 'accepted')`;
  }

  async list(userId: string) {
    const rows = await this.db.select({ id: problems.id, title: problems.title, difficulty: problems.difficulty, pack: problems.packId, solved: this.solvedBy(userId) })
      .from(problems).orderBy(asc(problems.packId), asc(problems.position));
    const stats = await problemStats(this.db);
    const me = await userProgress(this.db, userId);
    return { problems: rows.map((r) => ({ ...r, solved: Boolean(r.solved), stats: stats.get(r.id) ?? NO_STATS })), me };
  }

  async get(userId: string, id: string) {
    const [row] = await this.db.select({ p: problems, schema: packs.schema, tables: packs.tables, solved: this.solvedBy(userId) })
      .from(problems).innerJoin(packs, eq(packs.id, problems.packId)).where(eq(problems.id, id));
    if (!row) throw new NotFound("problem");
    const p = row.p;
    const solved = Boolean(row.solved);
    const expected = p.expected as { columns: { name: string; type: string }[]; rows: (string | null)[][] };
    return {
      id: p.id, title: p.title, difficulty: p.difficulty, pack: p.packId, schema: row.schema, statement: p.statement,
      ordered: p.ordered, solved, tables: row.tables as never,
      hints: p.hints ?? [],
      expected_preview: p.showExpected ? { columns: expected.columns, rows: expected.rows.slice(0, PREVIEW_ROWS), total_rows: expected.rows.length } : null,
      // Shown once the user has solved it themselves, never before.
      solution: solved ? p.solution : null,
      stats: (await problemStats(this.db, p.id)).get(p.id) ?? NO_STATS,
      hidden_tests: Array.isArray(p.tests) ? p.tests.length : 0,
    };
  }

  async submit(userId: string, problemId: string, sqlQuery: string, clientId?: string) {
    const text = sqlQuery.trim();
    if (text.length === 0 || sqlQuery.length > MAX_SQL_CHARS) {
      throw new BadRequest(`sql_query must be 1..${MAX_SQL_CHARS} characters`, [{ field: "sql_query", message: `length ${sqlQuery.length}` }]);
    }
    // The same attempt again (double click, a retry after a lost answer): the job it already made.
    const again = clientId ? await this.byClientId(userId, clientId) : null;
    if (again) return again;
    await this.limit("submit", userId);
    const id = Bun.randomUUIDv7();
    let inserted: boolean;
    try {
      inserted = await this.insertIfAllowed(id, userId, problemId, sqlQuery, clientId);
    } catch (err) {
      // Two copies of one attempt raced past the check: the unique index let one in.
      const first = clientId ? await this.byClientId(userId, clientId) : null;
      if (first) return first;
      throw err;
    }
    if (!inserted) {
      // Refused by the statement's conditions: say which one.
      const [problem] = await this.db.select({ id: problems.id }).from(problems).where(eq(problems.id, problemId));
      if (!problem) throw new NotFound("problem");
      rateLimited.inc({ scope: "pending-submissions" });
      throw new TooManyRequests(5000, `queued submissions (at most ${MAX_PENDING_PER_USER} at once)`);
    }
    try {
      // The job carries the SQL: a worker's first attempt needs no read of the row (SubmissionJobs.run).
      await this.engine.queue(QUEUE).push(id, { user_id: userId, problem_id: problemId, sql_query: sqlQuery });
    } catch (err) {
      // Nothing accepted may be lost: without a queued job the row must not stay behind.
      await this.db.delete(submissions).where(eq(submissions.id, id));
      if (err instanceof EngineUnavailableError) throw new ServiceUnavailable("the judge queue is unavailable (Redis is down); try again shortly");
      throw err;
    }
    return { job_id: id, status: "queued" as const };
  }

  /**
   * One round trip on the way in (#14: the judge at class scale): the row is written only if the problem
   * exists and the user has fewer than MAX_PENDING_PER_USER submissions queued or processing.
   */
  private async insertIfAllowed(id: string, userId: string, problemId: string, sqlQuery: string, clientId?: string): Promise<boolean> {
    const rows = rowsOf(await this.db.execute(sql`
      insert into submissions (id, user_id, problem_id, sql_query, status, client_id)
      select ${id}, ${userId}, p.id, ${sqlQuery}, 'queued', ${clientId ?? null} from problems p
      where p.id = ${problemId}
        and (select count(*) from submissions s where s.user_id = ${userId} and s.status in ('queued', 'processing')) < ${MAX_PENDING_PER_USER}
      returning id`));
    return rows.length === 1;
  }

  private async byClientId(userId: string, clientId: string) {
    const [row] = await this.db.select({ id: submissions.id }).from(submissions).where(and(eq(submissions.userId, userId), eq(submissions.clientId, clientId)));
    return row ? { job_id: row.id, status: "queued" as const } : null;
  }

  async result(userId: string, jobId: string): Promise<ResultView> {
    try {
      const cached = await this.engine.results.get(jobId);
      if (cached) {
        const { user_id, ...view } = JSON.parse(cached) as ResultView & { user_id: string };
        if (user_id !== userId) throw new NotFound("result");
        return view;
      }
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
    }
    const [row] = await this.db.select().from(submissions).where(and(eq(submissions.id, jobId), eq(submissions.userId, userId)));
    if (!row) throw new NotFound("result");
    return viewOf(row);
  }

  async submissions(userId: string, problemId: string | undefined, limit: number) {
    const rows = await this.db.select({ s: submissions, title: problems.title }).from(submissions)
      .innerJoin(problems, eq(problems.id, submissions.problemId))
      .where(problemId ? and(eq(submissions.userId, userId), eq(submissions.problemId, problemId)) : eq(submissions.userId, userId))
      .orderBy(desc(submissions.createdAt)).limit(limit);
    // No result rows in the list (up to 100 rows x 50 submissions); GET /problems/result/:id has them.
    return { submissions: rows.map((r) => ({ ...viewOf(r.s), rows: [], sql_query: r.s.sqlQuery, problem_title: r.title })) };
  }
}
