/**
 * Redis memory is bounded by activity, not by history: a conversation idle
 * for CHAT_CACHE_TTL_SEC leaves Redis (recent list and seq counter), and the
 * next read refills the list and the next send re-seeds the counter from
 * PostgreSQL, so seqs never go back (PostgreSQL + Redis logical db 9; a 1 s
 * TTL). Also what /metrics and /ready report about the store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { call, registerUser } from "../../helpers/app";
import { postgresAvailable, redisAvailable, redisDbUrl } from "../../helpers/services";
import { buildTestRuntime, type TestRuntime } from "../../helpers/runtime";
import { storeWarnings } from "../../../src/plugins/store-metrics";

const ok = (await redisAvailable()) && (await postgresAvailable());

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(50)) if (await cond()) return;
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(!ok)("idle conversations leave Redis", () => {
  let rt: TestRuntime;
  let admin: Redis;
  beforeAll(async () => {
    rt = await buildTestRuntime("postgres", { redisDb: 9, config: { CHAT_CACHE_TTL_SEC: "1" } });
    admin = new Redis(redisDbUrl(9));
  }, 30_000);
  afterAll(async () => {
    admin?.disconnect();
    await rt?.close();
  });

  test("after expiry, history is refilled and the next message takes the next seq", async () => {
    const a = await registerUser(rt.app);
    const b = await registerUser(rt.app);
    let cid = "";
    for (const content of ["one", "two", "three"]) {
      const res = await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { to: b.user.id, content } });
      expect(res.status).toBe(201);
      cid = res.json.message.conversation_id;
    }
    expect(await admin.ttl(`chat:{${cid}}:seq`)).toBeGreaterThan(0);
    expect(await admin.ttl(`chat:{${cid}}:messages`)).toBeGreaterThan(0);
    await until("the outbox to drain", async () => (await rt.engine.outbox.pending()) === 0);
    await until("the keys to expire", async () => (await admin.exists(`chat:{${cid}}:seq`, `chat:{${cid}}:messages`)) === 0, 5_000);

    const history = await call(rt.app, "GET", `/chat/history?conversation_id=${cid}`, { token: b.access_token });
    expect(history.json.messages.map((m: { seq: number; content: string }) => [m.seq, m.content])).toEqual([[1, "one"], [2, "two"], [3, "three"]]);
    const next = await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { conversation_id: cid, content: "four" } });
    expect(next.status).toBe(201);
    expect(next.json.message.seq).toBe(4);
    const after = await call(rt.app, "GET", `/chat/history?conversation_id=${cid}`, { token: b.access_token });
    expect(after.json.messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3, 4]);
  }, 30_000);

  test("/metrics reports the outbox and Redis memory", async () => {
    const res = await call(rt.app, "GET", "/metrics");
    expect(res.text).toMatch(/^huddle_outbox_pending \d+/m);
    expect(res.text).toMatch(/^huddle_outbox_oldest_age_seconds [\d.]+/m);
    const used = Number(res.text.match(/^huddle_redis_used_memory_bytes (\d+)/m)?.[1]);
    expect(used).toBeGreaterThan(0);
  });
});

describe("store warnings", () => {
  test("eviction and missing persistence are named; a durable noeviction Redis is quiet", () => {
    expect(storeWarnings({ maxmemory_policy: "allkeys-lru", aof_enabled: false, rdb_enabled: false })).toHaveLength(2);
    expect(storeWarnings({ maxmemory_policy: "noeviction", aof_enabled: true, rdb_enabled: false })).toEqual([]);
    expect(storeWarnings({ maxmemory_policy: "volatile-lru", aof_enabled: true })[0]).toContain("volatile-lru");
    expect(storeWarnings({})).toEqual([]);
  });
});
