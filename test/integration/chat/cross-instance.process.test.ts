/**
 * Two server processes sharing Redis and PostgreSQL: a socket on instance B
 * gets what is sent through instance A, and conversation subscriptions exist
 * only while a local socket follows the conversation.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { createTestDatabase, postgresAvailable, redisAvailable, redisDbUrl } from "../../helpers/services";
import { json, registerOver, spawnServer, type ServerProcess } from "../../helpers/process";
import { TestSocket } from "../../helpers/runtime";

const ok = (await redisAvailable()) && (await postgresAvailable());

describe.skipIf(!ok)("two instances", () => {
  let A: ServerProcess, B: ServerProcess;
  let redis: Redis;
  const cleanup: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    const db = await createTestDatabase("xi");
    cleanup.push(db.drop);
    const url = redisDbUrl(7);
    redis = new Redis(url);
    await redis.flushdb();
    cleanup.push(async () => redis.disconnect());
    const env = { DATABASE_URL: db.url, REDIS_URL: url, RATE_LIMIT_SCALE: "1000", CONVERSATION_IDLE_MS: "300", WORKER_CONCURRENCY: "0" };
    A = await spawnServer(env);
    cleanup.push(() => A.kill());
    B = await spawnServer(env);
    cleanup.push(() => B.kill());
  });
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("a message sent through A reaches a socket on B quickly, in order, once", async () => {
    const a = await registerOver(A.base);
    const b = await registerOver(A.base);
    const first = await json(A.base, "POST", "/chat/send", { to: b.user.id, content: "warm-up" }, a.access_token);
    const cid = first.json.message.conversation_id;
    const sb = await TestSocket.connect(`${B.wsBase}/chat/subscribe?token=${b.access_token}`);
    cleanup.push(async () => sb.close());
    await sb.next((f) => f.type === "ready");
    const latencies: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      const res = await json(A.base, "POST", "/chat/send", { conversation_id: cid, content: `x${i}` }, a.access_token);
      await sb.next((f) => f.type === "message" && f.message.id === res.json.message.id, 2000);
      latencies.push(performance.now() - t0);
    }
    latencies.sort((x, y) => x - y);
    const p99 = latencies[Math.floor(latencies.length * 0.99) - 1]!;
    console.log(`cross-instance send->receive: p50 ${latencies[49]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    expect(p99).toBeLessThan(100);
    const seqs = sb.frames.filter((f) => f.type === "message").map((f) => f.message.seq);
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));

    // B holds the chat:{id} subscription only while its socket follows the conversation.
    const channels = async () => (await redis.call("PUBSUB", "CHANNELS", `chat:${cid}`)) as string[];
    expect(await channels()).toEqual([`chat:${cid}`]);
    sb.close();
    await sb.waitClose();
    for (let i = 0; i < 50 && (await channels()).length > 0; i++) await Bun.sleep(20);
    expect(await channels()).toEqual([]);
  }, 30_000);

  test("presence and typing cross instances", async () => {
    const a = await registerOver(A.base);
    const b = await registerOver(A.base);
    const first = await json(A.base, "POST", "/chat/send", { to: b.user.id, content: "hi" }, a.access_token);
    const cid = first.json.message.conversation_id;
    const sb = await TestSocket.connect(`${B.wsBase}/chat/subscribe?token=${b.access_token}`);
    cleanup.push(async () => sb.close());
    await sb.next((f) => f.type === "ready");
    const sa = await TestSocket.connect(`${A.wsBase}/chat/subscribe?token=${a.access_token}`);
    await sa.next((f) => f.type === "ready");
    const online = await sb.next((f) => f.type === "presence" && f.user_id === a.user.id && f.online);
    expect(online.online).toBe(true);
    expect((await json(B.base, "GET", `/users/${a.user.id}`, undefined, b.access_token)).json.online).toBe(true);
    sa.send({ type: "typing", conversation_id: cid });
    expect((await sb.next((f) => f.type === "typing")).user_id).toBe(a.user.id);
    sa.close();
    await sb.next((f) => f.type === "presence" && f.user_id === a.user.id && !f.online);
    expect((await json(B.base, "GET", `/users/${a.user.id}`, undefined, b.access_token)).json.online).toBe(false);
  }, 30_000);
});
