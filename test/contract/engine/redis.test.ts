/**
 * The engine contract on real Redis (logical db 2), plus what only Redis has:
 * the published key layout (DESIGN §4.1) and scripts surviving a script-cache loss.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { createEngine, type Engine } from "../../../src/engine";
import { LuaScript } from "../../../src/engine/redis/connection";
import * as keys from "../../../src/engine/redis/keys";
import { LEASE } from "../../../src/engine/redis/queue-scripts";
import { redisAvailable, redisDbUrl } from "../../helpers/services";
import { engineContract, newMessage } from "./engine.contract";

const ok = await redisAvailable();
const url = redisDbUrl(2);

describe.skipIf(!ok)("redis engine", () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(url);
  });
  afterAll(() => admin.disconnect());

  engineContract({
    create: async () => {
      await admin.flushdb();
      return createEngine({ redisUrl: url });
    },
    peer: () => createEngine({ redisUrl: url }),
  });

  test("with REDIS_WAIT_REPLICAS an append no replica confirmed is refused and never published", async () => {
    // This Redis has no replica, so WAIT 1 answers 0 after its timeout (1 s).
    const engine = await createEngine({ redisUrl: url, waitReplicas: 1 });
    const cid = Bun.randomUUIDv7();
    const listener = admin.duplicate();
    const heard: string[] = [];
    try {
      await engine.chat.seedSeq(cid, 0);
      await listener.subscribe(keys.chatChannel(cid));
      listener.on("message", (_channel: string, payload: string) => heard.push(payload));
      await expect(engine.chat.append(newMessage(cid, Bun.randomUUIDv7(), { content: "unconfirmed" }))).rejects.toThrow(/replica/);
      // The write itself may stay (a retry with its client_id finds it), but no reader was shown it.
      expect(await admin.llen(keys.chatMessages(cid))).toBe(1);
      await Bun.sleep(200);
      expect(heard).toEqual([]);
    } finally {
      listener.disconnect();
      await engine.close();
    }
  }, 10_000);

  describe("key layout", () => {
    let engine: Engine;
    beforeAll(async () => {
      await admin.flushdb();
      engine = await createEngine({ redisUrl: url });
    });
    afterAll(() => engine.close());

    test("append writes the list, the counter, the outbox entry and a TTL'd idempotency record", async () => {
      const cid = Bun.randomUUIDv7();
      const sender = Bun.randomUUIDv7();
      await engine.chat.seedSeq(cid, 0);
      const { message } = await engine.chat.append(newMessage(cid, sender, { client_id: "k" }));
      expect(await admin.get(keys.chatSeq(cid))).toBe("1");
      expect((await admin.lrange(keys.chatMessages(cid), 0, -1)).map((s) => JSON.parse(s))).toEqual([message]);
      const stream = await admin.xrange(keys.chatPersistShard(keys.outboxShardOf(cid)), "-", "+");
      expect(stream.map(([, fields]) => fields)).toEqual([["m", JSON.stringify(message)]]);
      const ttl = await admin.ttl(keys.chatIdempotency(cid, sender, "k"));
      expect(ttl).toBeGreaterThan(keys.IDEMPOTENCY_TTL_SEC - 5);
      expect(ttl).toBeLessThanOrEqual(keys.IDEMPOTENCY_TTL_SEC);
    });

    test("a claimed job has its processing hash and lease; completion stores the result with its TTL", async () => {
      const q = engine.queue("problems");
      const id = Bun.randomUUIDv7();
      await q.push(id, { problem_id: "p1" });
      expect(JSON.parse((await admin.lrange("{problems}:queue", 0, -1))[0]!)).toMatchObject({ id, attempt: 1 });
      const w = q.claimer("worker-a");
      const before = Date.now();
      await w.claim(30_000, 0);
      const h = await admin.hgetall(`{problems}:processing:${id}`);
      expect(h).toMatchObject({ id, worker: "worker-a", attempt: "1", data: '{"problem_id":"p1"}' });
      expect(Number(h.lease_deadline)).toBeGreaterThanOrEqual(before + 30_000);
      expect(Number(h.started_at)).toBeGreaterThanOrEqual(before);
      expect(Number(await admin.zscore("{problems}:leases", id))).toBe(Number(h.lease_deadline));
      expect(await admin.llen("{problems}:claiming")).toBe(0);
      expect(await q.complete(id, "worker-a", { json: '{"verdict":"accepted"}', ttlSec: 300 })).toBe(true);
      expect(await admin.exists(`{problems}:processing:${id}`)).toBe(0);
      expect(await admin.zscore("{problems}:leases", id)).toBeNull();
      expect(await admin.get(`{problems}:result:${id}`)).toBe('{"verdict":"accepted"}');
      expect(await admin.ttl(`{problems}:result:${id}`)).toBeGreaterThan(295);
      await w.close();
    });

    test("presence and rate-limit keys expire", async () => {
      const user = Bun.randomUUIDv7();
      await engine.presence.setOnline(user, 60);
      expect(await admin.ttl(`user:{${user}}:online`)).toBeGreaterThan(55);
      await engine.rateLimiter.take("login", user, { capacity: 5, refillPerSec: 1 });
      const pttl = await admin.pttl(`ratelimit:login:{${user}}`);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(6_000);
    });

    test("a job stranded in the holding list (worker died mid-claim) goes back after the grace period", async () => {
      const q = engine.queue(`q${Bun.randomUUIDv7()}`);
      const id = Bun.randomUUIDv7();
      await admin.lpush(keys.jobHolding(q.name), JSON.stringify({ id, data: {}, attempt: 1, enqueued_at: 1 }));
      const now = Date.now();
      expect(await q.requeueExpired(now, 3, { strandedAfterMs: 1_000 })).toEqual({ requeued: [], dead: [] });
      expect(await q.requeueExpired(now + 500, 3, { strandedAfterMs: 1_000 })).toEqual({ requeued: [], dead: [] });
      expect(await q.requeueExpired(now + 1_000, 3, { strandedAfterMs: 1_000 })).toEqual({ requeued: [id], dead: [] });
      expect(await admin.exists(keys.jobHolding(q.name), keys.jobHoldingSeen(q.name))).toBe(0);
      const w = q.claimer("w");
      expect(await w.claim(1_000, 0)).toMatchObject({ id, attempt: 1 });
      await w.close();
    });

    test("the lease step leases nothing when the reaper already took the job back from the holding list", async () => {
      const q = `q${Bun.randomUUIDv7()}`;
      const id = Bun.randomUUIDv7();
      const raw = JSON.stringify({ id, data: {}, attempt: 1, enqueued_at: 1 });
      const scriptKeys = [keys.jobHolding(q), keys.jobHoldingSeen(q), keys.jobLeases(q), keys.jobProcessing(q, id)];
      const args = [raw, "w", Date.now() + 1_000, Date.now(), id, "{}", 1, 1];
      expect(await LEASE.run(admin, scriptKeys, args)).toBe(0);
      expect(await admin.exists(keys.jobProcessing(q, id), keys.jobLeases(q))).toBe(0);
      await admin.lpush(keys.jobHolding(q), raw);
      expect(await LEASE.run(admin, scriptKeys, args)).toBe(1);
      expect(await admin.hget(keys.jobProcessing(q, id), "worker")).toBe("w");
    });

    test("the outbox groups are recreated when Redis lost them", async () => {
      const shards = Array.from({ length: keys.OUTBOX_SHARDS }, (_, i) => keys.chatPersistShard(i));
      await admin.del(...shards);
      expect(await engine.outbox.claimStale("c", 0, 10)).toEqual([]);
      expect(await engine.outbox.read("c", 10, 0)).toEqual([]);
      expect(await engine.outbox.read("c", 10, 20)).toEqual([]);
      for (const shard of shards) expect(((await admin.xinfo("GROUPS", shard)) as unknown[]).length).toBe(1);
    });

    test("what an older version left in the untagged chat:persist stream is still persisted", async () => {
      const old = { ...newMessage(Bun.randomUUIDv7(), Bun.randomUUIDv7()), seq: 1 };
      await admin.xadd(keys.chatPersistLegacy, "*", "m", JSON.stringify(old));
      const upgraded = await createEngine({ redisUrl: url });
      await upgraded.outbox.ensureGroup();
      const got = await upgraded.outbox.read("legacy-reader", 100, 0);
      expect(got.map((e) => e.message)).toContainEqual(old);
      await upgraded.outbox.ack(got.map((e) => e.id));
      expect(await admin.xlen(keys.chatPersistLegacy)).toBe(0);
      await upgraded.close();
    });

    test("one append is one script call, the send limit included", async () => {
      const cid = Bun.randomUUIDv7();
      const sender = Bun.randomUUIDv7();
      await engine.chat.seedSeq(cid, 0);
      const limit = { scope: "send", id: sender, rule: { capacity: 2, refillPerSec: 0.001 } };
      const monitor = await admin.duplicate().monitor();
      const seen: string[] = [];
      // Commands a script runs show up with source "lua": only what the engine sent counts.
      monitor.on("monitor", (_t: string, args: string[], source: string) => {
        if (!source.includes("lua")) seen.push(String(args[0]).toLowerCase());
      });
      await engine.chat.append(newMessage(cid, sender), { limit });
      await Bun.sleep(50);
      monitor.disconnect();
      expect(seen.filter((c) => !c.startsWith("client") && c !== "select" && c !== "info")).toEqual(["evalsha"]);
      expect(Number(await admin.hget(keys.rateLimit("send", sender), "tokens"))).toBeCloseTo(1, 1);
    });

    test("handlers of one channel share a single server subscription, dropped with the last handler", async () => {
      const channel = `test:${Bun.randomUUIDv7()}`;
      const subscribers = async () => Number(((await admin.pubsub("NUMSUB", channel)) as [string, number])[1]);
      const stopA = await engine.broker.subscribe(channel, () => {});
      const stopB = await engine.broker.subscribe(channel, () => {});
      expect(await subscribers()).toBe(1);
      await stopA();
      expect(await subscribers()).toBe(1);
      await stopB();
      expect(await subscribers()).toBe(0);
    });

    test("a script missing from the server's cache is loaded on first use", async () => {
      const script = new LuaScript(`return 'fresh-${Bun.randomUUIDv7()}'`);
      expect(String(await script.run(admin, [], []))).toStartWith("fresh-");
      expect(await admin.script("EXISTS", script.sha)).toEqual([1]);
    });
  });
});
