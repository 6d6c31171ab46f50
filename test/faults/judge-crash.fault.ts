/**
 * Fault 2: SIGKILL the judge process (--role worker) with jobs in flight and
 * start another: every submission reaches a terminal status exactly once (one
 * problem.result frame per job on the submitter's socket, which sits on a
 * separate --role api process) and no job runs more than 3 times; a job whose
 * worker is killed three times in a row ends as internal_error.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import postgres from "postgres";
import { createTestDatabase, postgresAvailable, redisAvailable, redisDbUrl } from "../helpers/services";
import { json, registerOver, spawnServer, type ServerProcess } from "../helpers/process";
import { TestSocket } from "../helpers/runtime";
import { waitFor } from "./lib";

const ok = (await redisAvailable()) && (await postgresAvailable());
const SLOW = "select count(*) from generate_series(1, 4000000) a";
const SLOWER = "select count(*) from generate_series(1, 9000000) a";
type Row = { id: string; status: string; attempts: number; verdict: string | null };

describe.skipIf(!ok)("fault: the judge process is SIGKILLed with jobs in flight", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  let api: ServerProcess;
  let worker: ServerProcess;
  let sql: postgres.Sql;
  let redis: Redis;
  let problemId = "";
  const env: Record<string, string> = { RATE_LIMIT_SCALE: "1000", RUNNER_POOL_SIZE: "2", SQL_TIMEOUT_MS: "3000" };
  const startWorker = async () => {
    const w = await spawnServer({ ...env, WORKER_CONCURRENCY: "2" }, ["serve", "--role", "worker"]);
    cleanup.push(() => w.kill());
    return w;
  };
  const rows = (ids: string[]) => sql<Row[]>`select id, status, attempts, verdict from submissions where id in ${sql(ids)}`;

  beforeAll(async () => {
    const db = await createTestDatabase("fjudge");
    cleanup.push(db.drop);
    env.DATABASE_URL = db.url;
    env.REDIS_URL = redisDbUrl(5);
    redis = new Redis(env.REDIS_URL);
    await redis.flushdb();
    cleanup.push(async () => redis.disconnect());
    api = await spawnServer({ ...env, WORKER_CONCURRENCY: "0" }, ["serve", "--role", "api"]);
    cleanup.push(() => api.kill());
    worker = await startWorker();
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));
    const probe = await registerOver(api.base, "jp");
    problemId = await waitFor("the catalog (loaded by the worker)", async () => {
      const list = await json(api.base, "GET", "/problems", undefined, probe.access_token);
      return list.json?.problems?.[0]?.id as string | undefined;
    }, 30_000);
  }, 60_000);
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("every submission completes exactly once, in at most 3 attempts", async () => {
    const users = await Promise.all(Array.from({ length: 4 }, () => registerOver(api.base, "jc")));
    const sockets = await Promise.all(users.map(async (u) => {
      const s = await TestSocket.connect(`${api.wsBase}/chat/subscribe?token=${u.access_token}`);
      cleanup.push(async () => s.close());
      await s.next((f) => f.type === "ready");
      return s;
    }));
    const jobs: string[] = [];
    for (const u of users) {
      for (let i = 0; i < 4; i++) {
        const res = await json(api.base, "POST", "/problems/submit", { problem_id: problemId, sql_query: SLOW }, u.access_token);
        expect(res.status).toBe(202);
        jobs.push(res.json.job_id);
      }
    }
    await waitFor("jobs being judged", async () => (await rows(jobs)).some((x) => x.status === "processing"), 10_000, 20);
    const inFlight = (await rows(jobs)).filter((x) => x.status === "processing").length;
    await worker.kill("SIGKILL");
    const killedAt = Date.now();
    worker = await startWorker();

    let done: Row[] = [];
    await waitFor("every submission terminal", async () => {
      done = await rows(jobs);
      return done.every((x) => x.status === "completed" || x.status === "failed");
    }, 45_000, 200);
    const recoveredMs = Date.now() - killedAt;
    expect(done.map((x) => x.id).sort()).toEqual([...jobs].sort());
    for (const row of done) expect(row.attempts).toBeLessThanOrEqual(3);

    // Exactly once, as the user sees it: one problem.result frame per job, and the API agrees with it.
    await Bun.sleep(500);
    for (const [k, s] of sockets.entries()) {
      const mine = jobs.slice(k * 4, k * 4 + 4);
      const results = s.frames.filter((f) => f.type === "problem.result").map((f) => f.job_id as string);
      expect(results.sort()).toEqual([...mine].sort());
      for (const id of mine) {
        const view = await json(api.base, "GET", `/problems/result/${id}`, undefined, users[k]!.access_token);
        expect(["completed", "failed"]).toContain(view.json.status);
        expect(view.json.verdict).toBe(s.frames.find((f) => f.type === "problem.result" && f.job_id === id).verdict);
      }
    }
    expect(await redis.llen("{problems}:queue")).toBe(0);
    expect(await redis.zcard("{problems}:leases")).toBe(0);
    const retried = done.filter((x) => x.attempts > 1).length;
    console.log(`judge crash: ${jobs.length} jobs, ${inFlight} processing at SIGKILL, all terminal ${recoveredMs} ms later, ${retried} needed another attempt, verdicts: ${[...new Set(done.map((x) => x.verdict))].join(", ")}`);
  }, 90_000);

  test("a job whose worker dies three times ends as internal_error after exactly 3 attempts", async () => {
    const u = await registerOver(api.base, "jx");
    const s = await TestSocket.connect(`${api.wsBase}/chat/subscribe?token=${u.access_token}`);
    cleanup.push(async () => s.close());
    await s.next((f) => f.type === "ready");
    const res = await json(api.base, "POST", "/problems/submit", { problem_id: problemId, sql_query: SLOWER }, u.access_token);
    expect(res.status).toBe(202);
    const id = res.json.job_id as string;
    const t0 = Date.now();
    for (let attempt = 1; attempt <= 3; attempt++) {
      await waitFor(`attempt ${attempt} running`, async () => {
        const [row] = await rows([id]);
        return row!.status === "processing" && row!.attempts === attempt;
      }, 30_000, 20);
      await worker.kill("SIGKILL");
      worker = await startWorker();
    }
    const [final] = await waitFor("the reaper gives up", async () => {
      const r = await rows([id]);
      return r[0]!.status === "failed" ? r : undefined;
    }, 30_000, 200);
    expect(final!.attempts).toBe(3);
    expect(final!.verdict).toBe("internal_error");
    const frame = await s.next((f) => f.type === "problem.result" && f.job_id === id, 5000);
    expect(frame.verdict).toBe("internal_error");
    expect(frame.error).toContain("3 times");
    await Bun.sleep(300);
    expect(s.frames.filter((f) => f.type === "problem.result")).toHaveLength(1);
    expect(await redis.llen("{problems}:queue")).toBe(0);
    expect(await redis.zcard("{problems}:leases")).toBe(0);
    console.log(`judge poison job: killed the worker during attempts 1, 2 and 3; failed as internal_error after ${Date.now() - t0} ms`);
  }, 120_000);
});
