/**
 * Stop a real (test-owned) Redis under a running server: chat keeps working on
 * PostgreSQL alone, sockets on the same instance still get messages, /ready
 * names Redis; start it again: normal operation resumes without a restart and
 * without duplicate or missing seqs.
 */
import { afterAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { createTestDatabase, postgresAvailable } from "../../helpers/services";
import { json, ownRedis, registerOver, spawnServer } from "../../helpers/process";
import { TestSocket } from "../../helpers/runtime";

const ok = (await postgresAvailable()) && Bun.which("redis-server") !== null;

describe.skipIf(!ok)("Redis down and back", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("chat degrades to PostgreSQL and recovers", async () => {
    const db = await createTestDatabase("rd");
    cleanup.push(db.drop);
    const redis = await ownRedis();
    cleanup.push(redis.stop);
    const server = await spawnServer({ DATABASE_URL: db.url, REDIS_URL: redis.url, RATE_LIMIT_SCALE: "1000", WORKER_CONCURRENCY: "0" });
    cleanup.push(() => server.kill());
    const a = await registerOver(server.base);
    const b = await registerOver(server.base);
    const send = (content: string) => json(server.base, "POST", "/chat/send", { to: b.user.id, content, client_id: content }, a.access_token);
    for (let i = 1; i <= 3; i++) expect((await send(`up-${i}`)).status).toBe(201);
    const sb = await TestSocket.connect(`${server.wsBase}/chat/subscribe?token=${b.access_token}`);
    cleanup.push(async () => sb.close());
    await sb.next((f) => f.type === "ready");

    await redis.stop();
    const down = await send("down-1");
    expect(down.status).toBe(201);
    expect(down.json.message.seq).toBe(4);
    expect((await send("down-2")).json.message.seq).toBe(5);
    expect((await send("down-2")).json.message.seq).toBe(5); // idempotent on the PostgreSQL path too
    await sb.next((f) => f.type === "message" && f.message.content === "down-2");
    const ready = await json(server.base, "GET", "/ready");
    expect(ready.status).toBe(503);
    expect(ready.json.failed).toContain("redis");
    const hist = await json(server.base, "GET", `/chat/history?with=${b.user.id}`, undefined, a.access_token);
    expect(hist.json.messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3, 4, 5]);

    await redis.start(); // empty: the counter is gone and must be seeded from PostgreSQL
    for (let i = 0; i < 100 && (await json(server.base, "GET", "/ready")).status !== 200; i++) await Bun.sleep(100);
    expect((await json(server.base, "GET", "/ready")).status).toBe(200);
    const back = await send("back-1");
    expect(back.status).toBe(201);
    expect(back.json.message.seq).toBe(6);
    await sb.next((f) => f.type === "message" && f.message.content === "back-1", 3000);

    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));
    let seqs: number[] = [];
    for (let i = 0; i < 50; i++) {
      seqs = (await sql`select seq from messages order by seq`).map((r) => Number(r.seq));
      if (seqs.length >= 6) break;
      await Bun.sleep(100);
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
  }, 60_000);
});
