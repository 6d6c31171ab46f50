/**
 * Fault 5: SIGTERM under load. HTTP requests already sent get their answer,
 * every socket gets a close frame with a reason, judge jobs in flight finish
 * (or go back to the queue), the chat outbox is flushed into PostgreSQL before
 * the process exits, and it exits with status 0 within a bound. A new instance
 * then finishes whatever was handed back.
 */
import { OUTBOX_SHARDS, chatPersistShard } from "../../src/engine/redis/keys";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import postgres from "postgres";
import { createTestDatabase, postgresAvailable } from "../helpers/services";
import { json, ownRedis, registerOver, spawnServer, type RedisProcess, type ServerProcess } from "../helpers/process";
import { TestSocket } from "../helpers/runtime";
import { createRoom, waitFor } from "./lib";

const ok = (await postgresAvailable()) && Bun.which("redis-server") !== null;
const SLOW = "select count(*) from generate_series(1, 3000000) a";
const EXIT_BOUND_MS = 15_000;

describe.skipIf(!ok)("fault: SIGTERM under load", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  let redis: RedisProcess;
  let server: ServerProcess;
  let sql: postgres.Sql;
  let env: Record<string, string>;
  beforeAll(async () => {
    const db = await createTestDatabase("fterm");
    cleanup.push(db.drop);
    redis = await ownRedis();
    cleanup.push(() => redis.stop());
    env = { DATABASE_URL: db.url, REDIS_URL: redis.url, RATE_LIMIT_SCALE: "1000", WORKER_CONCURRENCY: "2", RUNNER_POOL_SIZE: "2", SQL_TIMEOUT_MS: "3000" };
    server = await spawnServer(env);
    cleanup.push(() => server.kill());
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));
  }, 60_000);
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("in-flight work finishes, sockets are told, the outbox is flushed, exit 0", async () => {
    const users = await Promise.all(Array.from({ length: 8 }, () => registerOver(server.base, "st")));
    const room = await createRoom(server.base, users[0]!.access_token, "shutdown", users.slice(1).map((u) => u.user.id));
    const sockets = await Promise.all(users.map(async (u) => {
      const s = await TestSocket.connect(`${server.wsBase}/chat/subscribe?token=${u.access_token}`);
      cleanup.push(async () => s.close());
      await s.next((f) => f.type === "ready");
      return s;
    }));
    const problemId = await waitFor("the catalog", async () => (await json(server.base, "GET", "/problems", undefined, users[0]!.access_token)).json?.problems?.[0]?.id as string | undefined, 30_000);

    // Load: 8 senders posting to the room, each request recorded with when it started and how it ended.
    type Outcome = { startedAt: number; status?: number; error?: string };
    const outcomes: Outcome[] = [];
    const acked = new Set<string>();
    let stop = false;
    const senders = users.map(async (u, k) => {
      for (let i = 0; !stop; i++) {
        const o: Outcome = { startedAt: Date.now() };
        outcomes.push(o);
        try {
          const res = await json(server.base, "POST", "/chat/send", { conversation_id: room, content: `m${k}-${i}`, client_id: `m${k}-${i}` }, u.access_token);
          o.status = res.status;
          if (res.status === 201) acked.add(res.json.message.id);
        } catch (err) {
          o.error = (err as Error).message;
          return;
        }
      }
    });
    const jobs: string[] = [];
    for (const u of users) {
      const res = await json(server.base, "POST", "/problems/submit", { problem_id: problemId, sql_query: SLOW }, u.access_token);
      expect(res.status).toBe(202);
      jobs.push(res.json.job_id);
    }
    await waitFor("a job being judged", async () => (await sql`select count(*)::int n from submissions where status = 'processing'`)[0]!.n > 0, 10_000, 20);
    await Bun.sleep(300);

    const sigtermAt = Date.now();
    server.proc.kill("SIGTERM");
    const code = await Promise.race([server.proc.exited, Bun.sleep(EXIT_BOUND_MS).then(() => "timeout" as const)]);
    const exitMs = Date.now() - sigtermAt;
    stop = true;
    await Promise.all(senders);

    expect(code).toBe(0);
    // Requests sent before SIGTERM were all answered; later ones were answered or refused, never cut.
    const before = outcomes.filter((o) => o.startedAt < sigtermAt);
    expect(before.filter((o) => o.status === undefined)).toEqual([]);
    expect(before.every((o) => o.status === 201)).toBe(true);
    const after = outcomes.filter((o) => o.startedAt >= sigtermAt);
    // Sockets: a close frame with the shutdown code and a reason telling the client what to do.
    for (const s of sockets) {
      const closed = await s.waitClose(2000);
      expect(closed.code).toBe(1001);
      expect(closed.reason).toContain("resume");
    }
    // The outbox was flushed by the exiting process itself: every acknowledged message is in PostgreSQL now.
    const r = new Redis(redis.url);
    cleanup.push(async () => r.disconnect());
    for (let shard = 0; shard < OUTBOX_SHARDS; shard++) expect(await r.xlen(chatPersistShard(shard))).toBe(0);
    // Besides the room's "created" system line: exactly what was acknowledged.
    const stored = new Set((await sql`select id from messages where message_type <> 'system'`).map((x) => x.id as string));
    expect([...acked].filter((id) => !stored.has(id))).toEqual([]);
    expect(stored.size).toBe(acked.size);
    // Jobs: finished, or back in the queue for the next instance; none left leased to the dead process.
    const states = await sql`select id, status from submissions where id in ${sql(jobs)}`;
    const finished = states.filter((x) => x.status === "completed" || x.status === "failed").length;
    expect(await r.zcard("{problems}:leases")).toBe(0);
    const queued = (await r.lrange("{problems}:queue", 0, -1)).length;
    expect(finished + queued).toBe(jobs.length);

    server = await spawnServer(env);
    const done = await waitFor("every job terminal after a restart", async () => {
      const rows = await sql`select status, attempts from submissions where id in ${sql(jobs)}`;
      return rows.every((x) => x.status === "completed" || x.status === "failed") ? rows : undefined;
    }, 30_000, 200);
    for (const row of done) expect(row.attempts).toBeLessThanOrEqual(2);
    console.log(`shutdown: exit ${code} ${exitMs} ms after SIGTERM; ${before.length} requests sent before it, all answered 201; ` +
      `${after.length} after (${after.filter((o) => o.error).length} refused); ${sockets.length} sockets closed 1001; ` +
      `${acked.size} messages acknowledged, all in PostgreSQL at exit; jobs: ${finished} finished during shutdown, ${queued} left queued and finished by the next instance`);
  }, 90_000);
});
