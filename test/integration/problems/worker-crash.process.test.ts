/**
 * SIGKILL a judging process with jobs in flight, start another: every
 * submission still reaches a terminal status, exactly once, within 3 attempts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import postgres from "postgres";
import { createTestDatabase, postgresAvailable, redisAvailable, redisDbUrl } from "../../helpers/services";
import { json, registerOver, spawnServer, type ServerProcess } from "../../helpers/process";

const ok = (await redisAvailable()) && (await postgresAvailable());
const SLOW = "select count(*) from generate_series(1, 4000000) a";

describe.skipIf(!ok)("judge survives a killed worker process", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("every submission completes exactly once", async () => {
    const db = await createTestDatabase("wk");
    cleanup.push(db.drop);
    const redisUrl = redisDbUrl(9);
    const r = new Redis(redisUrl);
    await r.flushdb();
    cleanup.push(async () => r.disconnect());
    const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl, RATE_LIMIT_SCALE: "1000", WORKER_CONCURRENCY: "2", RUNNER_POOL_SIZE: "2", SQL_TIMEOUT_MS: "3000" };
    let server: ServerProcess = await spawnServer(env);
    cleanup.push(() => server.kill());
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));

    const users = [await registerOver(server.base), await registerOver(server.base)];
    let problemId = "";
    for (let i = 0; i < 300 && !problemId; i++) {
      const list = await json(server.base, "GET", "/problems", undefined, users[0]!.access_token);
      problemId = list.json?.problems?.[0]?.id ?? "";
      if (!problemId) await Bun.sleep(100);
    }
    const jobs: string[] = [];
    for (const u of users) {
      for (let i = 0; i < 4; i++) {
        const res = await json(server.base, "POST", "/problems/submit", { problem_id: problemId, sql_query: SLOW }, u.access_token);
        expect(res.status).toBe(202);
        jobs.push(res.json.job_id);
      }
    }
    for (let i = 0; i < 100; i++) {
      const [{ n }] = await sql`select count(*)::int as n from submissions where status = 'processing'`;
      if (n > 0) break;
      await Bun.sleep(20);
    }
    await server.kill("SIGKILL");
    server = await spawnServer(env);

    let rows: { id: string; status: string; attempts: number; verdict: string | null }[] = [];
    for (let i = 0; i < 600; i++) {
      rows = await sql`select id, status, attempts, verdict from submissions`;
      if (rows.every((x) => x.status === "completed" || x.status === "failed")) break;
      await Bun.sleep(100);
    }
    expect(rows.map((x) => x.id).sort()).toEqual([...jobs].sort());
    for (const row of rows) {
      expect(["completed", "failed"]).toContain(row.status);
      expect(row.attempts).toBeLessThanOrEqual(3);
    }
    const retried = rows.filter((x) => x.attempts > 1).length;
    console.log(`worker crash: ${jobs.length} jobs, ${retried} needed another attempt, verdicts: ${[...new Set(rows.map((x) => x.verdict))].join(", ")}`);
    expect(await r.llen("problems:queue")).toBe(0);
    expect(await r.zcard("problems:leases")).toBe(0);
  }, 120_000);
});
