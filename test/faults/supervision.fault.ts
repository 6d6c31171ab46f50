/**
 * Fault 6: actors crash inside a running server (injected through the
 * test-only POST /__test/crash, HUDDLE_TEST_HOOKS=1): a conversation actor, a
 * judge worker (three times, to see the backoff grow) and the SQL runner
 * pool's actor. Each is restarted by its supervisor, the others are not
 * disturbed (another conversation's socket sees every message in order, the
 * other worker never restarts, judging goes on), and /ready and /metrics show
 * the restarts. The hook cannot be enabled with NODE_ENV=production and does
 * not exist without HUDDLE_TEST_HOOKS.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { createTestDatabase, postgresAvailable } from "../helpers/services";
import { json, ownRedis, registerOver, spawnServer, type ServerProcess } from "../helpers/process";
import { TestSocket } from "../helpers/runtime";
import { ChatReader, metric, waitFor } from "./lib";

const ok = (await postgresAvailable()) && Bun.which("redis-server") !== null;
const ROOT = new URL("../..", import.meta.url).pathname;

describe.skipIf(!ok)("fault: actors crash and are restarted by their supervisors", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  let server: ServerProcess;
  let env: Record<string, string>;
  let sql: postgres.Sql;
  beforeAll(async () => {
    const db = await createTestDatabase("fsup");
    cleanup.push(db.drop);
    const redis = await ownRedis();
    cleanup.push(() => redis.stop());
    env = { DATABASE_URL: db.url, REDIS_URL: redis.url, RATE_LIMIT_SCALE: "1000", WORKER_CONCURRENCY: "2", RUNNER_POOL_SIZE: "1" };
    server = await spawnServer({ ...env, HUDDLE_TEST_HOOKS: "1", INSTANCE_ID: "sup1" });
    cleanup.push(() => server.kill());
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));
  }, 60_000);
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  const crash = (target: string, id?: string) => json(server.base, "POST", "/__test/crash", { target, ...(id !== undefined ? { id } : {}) });
  const restartsInReady = async () => (await json(server.base, "GET", "/ready")).json?.checks?.actors?.info?.restarts as Record<string, number> | undefined;
  const readyWith = (name: string, n: number) => waitFor(`/ready 200 showing ${n} restarts of ${name}`, async () => {
    const r = await json(server.base, "GET", "/ready");
    return r.status === 200 && r.json.checks.actors.info.restarts[name] === n;
  }, 15_000, 50);

  test("a conversation actor, a worker and the runner pool restart with backoff; nothing else notices", async () => {
    const [a, b, c] = await Promise.all([registerOver(server.base, "sa"), registerOver(server.base, "sb"), registerOver(server.base, "sc")]);
    const x = (await json(server.base, "POST", "/chat/send", { to: b.user.id, content: "x0", client_id: "x0" }, a.access_token)).json.message.conversation_id as string;
    const y = (await json(server.base, "POST", "/chat/send", { to: c.user.id, content: "y0", client_id: "y0" }, a.access_token)).json.message.conversation_id as string;
    const onX = new ChatReader("b", b.access_token, [x]);
    const onY = new ChatReader("c", c.access_token, [y]);
    await onX.connect(server.wsBase);
    await onY.connect(server.wsBase);
    const aSocket = await TestSocket.connect(`${server.wsBase}/chat/subscribe?token=${a.access_token}`);
    cleanup.push(async () => (onX.close(), onY.close(), aSocket.close()));
    await aSocket.next((f) => f.type === "ready");

    // Traffic on both conversations for the whole test.
    const acked = new Map<string, number>([[x, 1], [y, 1]]);
    let stop = false;
    const traffic = (async () => {
      for (let i = 1; !stop; i++) {
        const to = i % 2 ? x : y;
        const res = await json(server.base, "POST", "/chat/send", { conversation_id: to, content: `t${i}`, client_id: `t${i}` }, a.access_token);
        if (res.status !== 201) throw new Error(`send refused during the faults: ${res.status} ${res.text}`);
        acked.set(to, res.json.message.seq);
        await Bun.sleep(15);
      }
    })();
    await Bun.sleep(300);

    // 1. The conversation actor of x (it owns x's subscription on this instance).
    expect((await crash("conversation", x)).status).toBe(200);
    await readyWith("conversations/*", 1);
    expect(await metric(server.base, "huddle_actor_restarts", { actor: "root/conversations/*" })).toBe(1);
    await Bun.sleep(300);

    // 2. Worker 0, three times: each restart waits longer (exponential backoff with jitter).
    const worker = "worker-sup1-0";
    for (let k = 1; k <= 3; k++) {
      expect((await crash("worker")).status).toBe(200);
      await readyWith(worker, k);
    }
    // 3. The SQL runner pool's actor, with a submission arriving while it restarts.
    const problemId = await waitFor("the catalog", async () => (await json(server.base, "GET", "/problems", undefined, a.access_token)).json?.problems?.[0]?.id as string | undefined, 30_000);
    expect((await crash("runner")).status).toBe(200);
    const job = await json(server.base, "POST", "/problems/submit", { problem_id: problemId, sql_query: "select 1" }, a.access_token);
    expect(job.status).toBe(202);
    await readyWith("sql-runners", 1);
    const result = await aSocket.next((f) => f.type === "problem.result" && f.job_id === job.json.job_id, 20_000);
    expect(["completed", "failed"]).toContain(result.status);
    expect(result.verdict).not.toBe("internal_error");

    await Bun.sleep(300);
    stop = true;
    await traffic;
    await waitFor("both readers caught up", () => onX.last.get(x) === acked.get(x) && onY.last.get(y) === acked.get(y), 10_000);
    // The other conversation never saw a gap, a repeat or a replay; x's reader may have resumed over the restart.
    expect(onY.deliveryProblems()).toEqual([]);
    expect(onY.gapsSeen + onY.duplicatesSeen).toBe(0);
    expect(onX.conflicts).toEqual([]);
    const stored = await sql`select conversation_id, count(*)::int n, max(seq)::int top from messages group by conversation_id`;
    for (const row of stored) expect(row.n).toBe(row.top); // no holes

    // What operators see.
    const restarts = (await restartsInReady())!;
    expect(restarts).toMatchObject({ [worker]: 3, "worker-sup1-1": 0, "sql-runners": 1, persister: 0, canary: 0, reaper: 0, "conversations/*": 1 });
    // The judge's loops sit after the runner pool under a rest_for_one supervisor: restarted with it, counted only when they fail.
    for (const [actor, n] of [[`root/judge/${worker}`, 3], ["root/judge/worker-sup1-1", 0], ["root/judge/sql-runners", 1], ["root/judge", 0], ["root/persister", 0], ["root/canary", 0]] as const) {
      expect(await metric(server.base, "huddle_actor_restarts", { actor })).toBe(n);
      expect(await metric(server.base, "huddle_actor_running", { actor })).toBe(1);
    }
    const delays = [...server.output().matchAll(new RegExp(`judge/${worker} crashed; restart #(\\d) in (\\d+) ms`, "g"))].map((m) => Number(m[2]));
    expect(delays).toHaveLength(3);
    expect(delays[1]!).toBeGreaterThanOrEqual(delays[0]!);
    expect(delays[2]!).toBeGreaterThanOrEqual(delays[1]!);
    expect(delays[2]!).toBeGreaterThanOrEqual(200); // third restart: 400 ms nominal, at most halved by jitter
    expect(server.proc.exitCode).toBeNull();
    console.log(`supervision: conversation actor restarted once (its reader resumed ${onX.resumesSent - 1} times, the other conversation's reader saw ${onY.gapsSeen} gaps), ` +
      `worker restarted 3 times after ${delays.join(", ")} ms, runner pool restarted once and judged the job submitted meanwhile (${result.verdict}); ` +
      `${[...acked.values()].reduce((s, n) => s + n, 0)} messages sent meanwhile, none refused`);
  }, 90_000);

  test("the hook is refused in production and absent without HUDDLE_TEST_HOOKS", async () => {
    const prod = Bun.spawnSync(["bun", "run", `${ROOT}src/main.ts`, "serve"], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: "production", HUDDLE_TEST_HOOKS: "1", JWT_SECRET: "test-secret-test-secret-test-secret-0123", PORT: "0", DATA_DIR: "/tmp/huddle-test-data" },
      stderr: "pipe",
      timeout: 20_000,
    });
    expect(prod.exitCode).toBe(2);
    expect(prod.stderr.toString()).toContain("HUDDLE_TEST_HOOKS");
    const plain = await spawnServer(env);
    cleanup.push(() => plain.kill());
    const res = await json(plain.base, "POST", "/__test/crash", { target: "runner" });
    expect(res.status).toBe(404);
    expect((await json(plain.base, "GET", "/swagger/json")).text).not.toContain("__test");
  }, 30_000);
});
