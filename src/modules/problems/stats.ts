/**
 * Numbers the problem pages show: per problem, the acceptance rate (accepted
 * among judged submissions) and the number of people who solved it; per user,
 * how many problems they solved and their streak (consecutive UTC days, up to
 * today or yesterday, with at least one accepted submission).
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { submissions } from "../../db/schema";

export type ProblemStats = { submissions: number; accepted: number; acceptance_rate: number | null; solvers: number };

export async function problemStats(db: Db, problemId?: string): Promise<Map<string, ProblemStats>> {
  const rows = await db.select({
    problemId: submissions.problemId,
    judged: sql<number>`count(*) filter (where ${submissions.status} = 'completed')::int`,
    accepted: sql<number>`count(*) filter (where ${submissions.verdict} = 'accepted')::int`,
    solvers: sql<number>`count(distinct ${submissions.userId}) filter (where ${submissions.verdict} = 'accepted')::int`,
  }).from(submissions).where(problemId ? eq(submissions.problemId, problemId) : undefined).groupBy(submissions.problemId);
  const out = new Map<string, ProblemStats>();
  for (const r of rows) {
    const judged = Number(r.judged);
    const accepted = Number(r.accepted);
    out.set(r.problemId, { submissions: judged, accepted, acceptance_rate: judged ? Math.round((accepted / judged) * 1000) / 1000 : null, solvers: Number(r.solvers) });
  }
  return out;
}

export const NO_STATS: ProblemStats = { submissions: 0, accepted: 0, acceptance_rate: null, solvers: 0 };

const DAY_MS = 86_400_000;

/** Consecutive days ending today or yesterday, from distinct UTC dates (newest first, "YYYY-MM-DD"). */
export function streakOf(days: string[], now = Date.now()): number {
  const today = Math.floor(now / DAY_MS);
  let expect = today;
  let streak = 0;
  for (const d of days) {
    const day = Math.floor(Date.parse(`${d}T00:00:00Z`) / DAY_MS);
    // Not solved yet today: a streak up to yesterday still counts.
    if (streak === 0 && day === today - 1) expect = today - 1;
    if (day !== expect) break;
    streak++;
    expect--;
  }
  return streak;
}

export async function userProgress(db: Db, userId: string): Promise<{ solved: number; streak: number }> {
  const accepted = and(eq(submissions.userId, userId), eq(submissions.verdict, "accepted"));
  const [{ solved }] = await db.select({ solved: sql<number>`count(distinct ${submissions.problemId})::int` }).from(submissions).where(accepted);
  const days = await db.selectDistinct({ d: sql<string>`to_char(${submissions.createdAt} at time zone 'UTC', 'YYYY-MM-DD')` })
    .from(submissions).where(accepted).orderBy(sql`1 desc`).limit(400);
  return { solved: Number(solved), streak: streakOf(days.map((r) => r.d)) };
}
