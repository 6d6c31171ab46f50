/**
 * Fault 3: a test-owned Redis is restarted (empty) and later stopped, long
 * enough for the pub/sub canary to go stale, under two running instances.
 * Chat degrades to PostgreSQL alone (sends accepted, same-instance sockets
 * still served, /ready names Redis), the judge refuses submissions with 503;
 * when Redis returns everything recovers without a restart: /ready 200 on
 * both instances (canary round trip), subscriptions back (cross-instance
 * delivery, problem.result frames), seqs continue without holes or repeats,
 * and submissions work again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { createTestDatabase, postgresAvailable } from "../helpers/services";
import { json, ownRedis, registerOver, spawnServer, type RedisProcess, type ServerProcess } from "../helpers/process";
import { TestSocket } from "../helpers/runtime";
import { ChatReader, waitFor } from "./lib";

const ok = (await postgresAvailable()) && Bun.which("redis-server") !== null;

describe.skipIf(!ok)("fault: Redis restarts and goes down under running instances", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  let redis: RedisProcess;
  let A: ServerProcess, B: ServerProcess;
  let sql: postgres.Sql;
  beforeAll(async () => {
    const db = await createTestDatabase("fredis");
    cleanup.push(db.drop);
    redis = await ownRedis();
    cleanup.push(() => redis.stop());
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, RATE_LIMIT_SCALE: "1000", RUNNER_POOL_SIZE: "1" };
    // A judges (one worker), B only serves.
    [A, B] = await Promise.all([spawnServer({ ...env, WORKER_CONCURRENCY: "1" }), spawnServer({ ...env, WORKER_CONCURRENCY: "0" })]);
    cleanup.push(() => A.kill(), () => B.kill());
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));
  }, 60_000);
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  const readyOn = (s: ServerProcess) => waitFor(`/ready 200 on :${s.port}`, async () => (await json(s.base, "GET", "/ready")).status === 200, 20_000, 100);

  test("chat and judge degrade while Redis is away and recover without a restart", async () => {
    const a = await registerOver(A.base, "ra");
    const b = await registerOver(A.base, "rb");
    const acked = new Map<string, number>();
    const send = async (via: ServerProcess, content: string) => {
      const res = await json(via.base, "POST", "/chat/send", { to: b.user.id, content, client_id: content }, a.access_token);
      if (res.status === 201) acked.set(res.json.message.id, res.json.message.seq);
      return res;
    };
    const first = await send(A, "up-1");
    const cid = first.json.message.conversation_id as string;
    // b follows the conversation from both instances; a watches for judge results from B.
    const onA = new ChatReader("b@A", b.access_token, [cid]);
    const onB = new ChatReader("b@B", b.access_token, [cid]);
    await onA.connect(A.wsBase);
    await onB.connect(B.wsBase);
    const aSocket = await TestSocket.connect(`${B.wsBase}/chat/subscribe?token=${a.access_token}`);
    cleanup.push(async () => (onA.close(), onB.close(), aSocket.close()));
    await aSocket.next((f) => f.type === "ready");
    for (let i = 2; i <= 3; i++) expect((await send(A, `up-${i}`)).status).toBe(201);
    const pids = [A.proc.pid, B.proc.pid];
    // A loads the default problem pack in the background at start.
    const problemId = await waitFor("the catalog", async () => (await json(A.base, "GET", "/problems", undefined, a.access_token)).json?.problems?.[0]?.id as string | undefined, 30_000);

    // 1. Restart: Redis comes back empty (counters, lists, the outbox group and every subscription are gone).
    await waitFor("outbox drained before the restart", async () => (await sql`select count(*)::int n from messages`)[0]!.n === 3, 10_000);
    const restartAt = Date.now();
    await redis.stop();
    await redis.start();
    await Promise.all([readyOn(A), readyOn(B)]);
    const readyAfterRestartMs = Date.now() - restartAt;
    const afterRestart = await send(B, "restart-1");
    expect(afterRestart.status).toBe(201);
    expect(afterRestart.json.message.seq).toBe(4); // seeded from PostgreSQL, not restarted at 1
    await waitFor("both sockets got the message sent after the restart", () => onA.last.get(cid) === 4 && onB.last.get(cid) === 4, 5_000);

    // 2. Down: sends go straight to PostgreSQL, same-instance sockets still get them, the judge says 503.
    // (This Redis keeps nothing on disk: wait for the outbox, or its backlog would be lost, as the README warns.)
    await waitFor("outbox drained before the outage", async () => (await sql`select count(*)::int n from messages`)[0]!.n === 4, 10_000);
    await redis.stop();
    const downAt = Date.now();
    for (let i = 1; i <= 3; i++) {
      const res = await send(A, `down-${i}`);
      expect(res.status).toBe(201);
      expect(res.json.message.seq).toBe(4 + i);
    }
    expect((await send(A, "down-3")).json.message.seq).toBe(7); // a retry is still recognised
    await waitFor("the same-instance socket got the messages sent while Redis was down", () => onA.last.get(cid) === 7, 3_000);
    const ready = await json(A.base, "GET", "/ready");
    expect(ready.status).toBe(503);
    expect(ready.json.failed).toContain("redis");
    expect(ready.json.failed).not.toContain("database");
    const refused = await json(A.base, "POST", "/problems/submit", { problem_id: problemId, sql_query: "select 1" }, a.access_token);
    expect(refused.status).toBe(503);
    expect(refused.json.error.message).toContain("Redis");
    const hist = await json(B.base, "GET", `/chat/history?with=${b.user.id}`, undefined, a.access_token);
    expect(hist.json.messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Long enough for the canary (pub/sub round trip, stale after 10 s) to turn red too.
    const stale = await waitFor("/ready naming the pub/sub canary", async () => {
      const r = await json(A.base, "GET", "/ready");
      return r.json.failed.includes("pubsub") ? r.json : undefined;
    }, 15_000, 250);
    expect(stale.failed).toContain("redis");
    const outageMs = Date.now() - downAt;

    // 3. Back: no process restarted, /ready green again on both (the canary's round trip works again), delivery crosses instances again.
    await redis.start();
    const backAt = Date.now();
    await Promise.all([readyOn(A), readyOn(B)]);
    const readyAfterOutageMs = Date.now() - backAt;
    expect([A.proc.exitCode, B.proc.exitCode]).toEqual([null, null]);
    expect([A.proc.pid, B.proc.pid]).toEqual(pids);
    const back = await send(B, "back-1");
    expect(back.status).toBe(201);
    expect(back.json.message.seq).toBe(8);
    // b@B missed 5..7 live (Redis carried nothing between instances): the gap makes it resume.
    await waitFor("both sockets caught up", () => onA.last.get(cid) === 8 && onB.last.get(cid) === 8, 10_000);
    expect(onA.deliveryProblems()).toEqual([]);
    expect(onA.accepted.get(cid)).toEqual(onB.accepted.get(cid)!);
    expect(onA.conflicts.concat(onB.conflicts)).toEqual([]);

    const job = await json(A.base, "POST", "/problems/submit", { problem_id: problemId, sql_query: "select 1" }, a.access_token);
    expect(job.status).toBe(202);
    const result = await aSocket.next((f) => f.type === "problem.result" && f.job_id === job.json.job_id, 20_000);
    expect(["completed", "failed"]).toContain(result.status);

    const seqs = await waitFor("everything in PostgreSQL", async () => {
      const rows = await sql`select id, seq from messages order by seq`;
      return rows.length === acked.size ? rows : undefined;
    }, 20_000);
    expect(seqs.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(seqs.map((r) => r.id).sort()).toEqual([...acked.keys()].sort());
    console.log(`redis outage: /ready green ${readyAfterRestartMs} ms after an empty restart and ${readyAfterOutageMs} ms after a ${outageMs} ms outage (canary red); ` +
      `${acked.size} messages acknowledged (3 while down), all in PostgreSQL with seqs 1..8; submit 503 while down, ${result.verdict} after`);
  }, 90_000);
});
