/**
 * Catalog reads and submissions. A submission is a `submissions` row
 * (PostgreSQL, permanent) plus a job on problems:queue (Redis); the result is
 * cached in Redis for 5 minutes and read from PostgreSQL afterwards.
 */
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { packs, problems, submissions } from "../../db/schema";
import { BadRequest, NotFound, ServiceUnavailable, TooManyRequests } from "../../errors";
import { EngineUnavailableError } from "../../engine/errors";
import type { Engine } from "../../engine/types";
import type { RateLimit } from "../../plugins/rate-limit";
import { rateLimited } from "../../plugins/metrics";
import { QUEUE, sampleQueueDepth, viewOf, type ResultView } from "./jobs";
import { MAX_SQL_CHARS } from "./model";

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
    return { problems: rows.map((r) => ({ ...r, solved: Boolean(r.solved) })) };
  }

  async get(userId: string, id: string) {
    const [row] = await this.db.select({ p: problems, schema: packs.schema, tables: packs.tables, solved: this.solvedBy(userId) })
      .from(problems).innerJoin(packs, eq(packs.id, problems.packId)).where(eq(problems.id, id));
    if (!row) throw new NotFound("problem");
    const p = row.p;
    return {
      id: p.id, title: p.title, difficulty: p.difficulty, pack: p.packId, schema: row.schema, statement: p.statement,
      ordered: p.ordered, solved: Boolean(row.solved), tables: row.tables as never,
      hidden_tests: Array.isArray(p.tests) ? p.tests.length : 0,
    };
  }

  async submit(userId: string, problemId: string, sqlQuery: string) {
    const text = sqlQuery.trim();
    if (text.length === 0 || sqlQuery.length > MAX_SQL_CHARS) {
      throw new BadRequest(`sql_query must be 1..${MAX_SQL_CHARS} characters`, [{ field: "sql_query", message: `length ${sqlQuery.length}` }]);
    }
    const [problem] = await this.db.select({ id: problems.id }).from(problems).where(eq(problems.id, problemId));
    if (!problem) throw new NotFound("problem");
    await this.limit("submit", userId);
    const [{ pending }] = await this.db.select({ pending: sql<number>`count(*)::int` }).from(submissions)
      .where(and(eq(submissions.userId, userId), inArray(submissions.status, ["queued", "processing"])));
    if (Number(pending) >= MAX_PENDING_PER_USER) {
      rateLimited.inc({ scope: "pending-submissions" });
      throw new TooManyRequests(5000, `queued submissions (at most ${MAX_PENDING_PER_USER} at once)`);
    }
    const id = Bun.randomUUIDv7();
    await this.db.insert(submissions).values({ id, userId, problemId, sqlQuery, status: "queued" });
    try {
      await this.engine.queue(QUEUE).push(id, { user_id: userId, problem_id: problemId });
    } catch (err) {
      // Nothing accepted may be lost: without a queued job the row must not stay behind.
      await this.db.delete(submissions).where(eq(submissions.id, id));
      if (err instanceof EngineUnavailableError) throw new ServiceUnavailable("the judge queue is unavailable (Redis is down); try again shortly");
      throw err;
    }
    return { job_id: id, status: "queued" as const };
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
    const rows = await this.db.select().from(submissions)
      .where(problemId ? and(eq(submissions.userId, userId), eq(submissions.problemId, problemId)) : eq(submissions.userId, userId))
      .orderBy(desc(submissions.createdAt)).limit(limit);
    // No result rows in the list (up to 100 rows x 50 submissions); GET /problems/result/:id has them.
    return { submissions: rows.map((r) => ({ ...viewOf(r), rows: [], sql_query: r.sqlQuery })) };
  }
}
