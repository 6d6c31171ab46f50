/**
 * Redis engine under connection loss (logical db 3): the subscriber is killed,
 * Redis is unreachable from the start, Redis goes away and comes back.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { createEngine, EngineUnavailableError, type Engine } from "../../../src/engine";
import { REDIS_URL, redisAvailable, redisDbUrl } from "../../helpers/services";
import { newMessage } from "./engine.contract";
import { TcpProxy } from "./tcp-proxy";

const ok = await redisAvailable();
const url = redisDbUrl(3);

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(20);
  }
}

/** Every engine call we expect to fail fast while Redis is unreachable. */
function callsWhileDown(engine: Engine): Promise<unknown>[] {
  const cid = Bun.randomUUIDv7();
  return [
    engine.ping(),
    engine.chat.append(newMessage(cid, Bun.randomUUIDv7())),
    engine.chat.recent(cid),
    engine.outbox.read("c", 10, 1_000),
    engine.broker.publish(`test:${cid}`, "x"),
    engine.presence.online([cid]),
    engine.queue("problems").push(cid, {}),
    engine.queue("problems").claimer("w").claim(1_000, 1_000),
    engine.results.get(cid),
    engine.rateLimiter.take("s", cid, { capacity: 1, refillPerSec: 1 }),
  ];
}

describe.skipIf(!ok)("redis engine resilience", () => {
  let admin: Redis;
  beforeAll(async () => {
    admin = new Redis(url);
    await admin.flushdb();
  });
  afterAll(() => admin.disconnect());

  test("after the subscriber connection is killed, channels are resubscribed and onReconnect fires", async () => {
    const instance = `t${Bun.randomUUIDv7().slice(-8)}`;
    const engine = await createEngine({ redisUrl: url, instance, maxBackoffMs: 100 });
    try {
      const channel = `test:${Bun.randomUUIDv7()}`;
      const got: string[] = [];
      let reconnects = 0;
      engine.broker.onReconnect(() => reconnects++);
      await engine.broker.subscribe(channel, (p) => got.push(p));
      await engine.broker.publish(channel, "before");
      await until(() => got.length === 1, 1_000);

      const clients = String(await admin.call("CLIENT", "LIST", "TYPE", "pubsub"));
      const line = clients.split("\n").find((l) => l.includes(` name=huddle:${instance}:sub `));
      const id = line?.match(/^id=(\d+)/)?.[1];
      expect(id).toBeDefined();
      expect(Number(await admin.call("CLIENT", "KILL", "ID", id!))).toBe(1);

      await until(() => reconnects === 1, 3_000);
      await engine.broker.publish(channel, "after");
      await until(() => got.length === 2, 1_000);
      expect(got).toEqual(["before", "after"]);
      expect(engine.broker.channels()).toEqual([channel]);
    } finally {
      await engine.close();
    }
  });

  test("an engine pointed at a closed port fails fast with EngineUnavailableError", async () => {
    const started = performance.now();
    const engine = await createEngine({ redisUrl: "redis://127.0.0.1:1/3" });
    try {
      const results = await Promise.allSettled(callsWhileDown(engine));
      for (const r of results) {
        expect(r.status).toBe("rejected");
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(EngineUnavailableError);
      }
      // Subscribing is accepted while down; it takes effect on reconnect.
      const stop = await engine.broker.subscribe("test:down", () => {});
      await stop();
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      await engine.close();
    }
  });

  test("Redis going away and coming back: calls fail fast meanwhile, then everything works again", async () => {
    const target = new URL(REDIS_URL);
    const proxy = new TcpProxy({ hostname: target.hostname, port: Number(target.port || 6379) });
    proxy.start();
    const engine = await createEngine({ redisUrl: `redis://127.0.0.1:${proxy.port}/3`, maxBackoffMs: 100 });
    try {
      const channel = `test:${Bun.randomUUIDv7()}`;
      const got: string[] = [];
      let reconnects = 0;
      engine.broker.onReconnect(() => reconnects++);
      await engine.broker.subscribe(channel, (p) => got.push(p));
      const cid = Bun.randomUUIDv7();
      await engine.chat.seedSeq(cid, 0);
      expect((await engine.chat.append(newMessage(cid, "u"))).message.seq).toBe(1);

      proxy.stop();
      await until(() => engine.ping().then(() => false, () => true), 1_000);
      const t0 = performance.now();
      const results = await Promise.allSettled(callsWhileDown(engine));
      expect(results.map((r) => r.status === "rejected" && r.reason instanceof EngineUnavailableError)).toEqual(
        results.map(() => true),
      );
      expect(performance.now() - t0).toBeLessThan(1_000);
      // Unsubscribe and subscribe while down: reconciled after the reconnect.
      const late: string[] = [];
      await engine.broker.subscribe(`${channel}:late`, (p) => late.push(p));

      proxy.start();
      await until(() => engine.ping().then(() => true, () => false), 3_000);
      await until(() => reconnects >= 1, 3_000);
      expect((await engine.chat.append(newMessage(cid, "u"))).message.seq).toBe(2);
      await engine.broker.publish(channel, "back");
      await engine.broker.publish(`${channel}:late`, "late");
      await until(() => got.length === 1 && late.length === 1, 1_000);
      const w = engine.queue("problems").claimer("w-after");
      await engine.queue("problems").push(cid, {});
      expect((await w.claim(1_000, 1_000))?.id).toBe(cid);
      await w.close();
    } finally {
      await engine.close();
      proxy.stop();
    }
  });
});
