/**
 * Rate limits are shared by every instance: two apps on one PostgreSQL and
 * one Redis (logical db 13) draw from the same buckets, so spreading attempts
 * over instances buys an attacker nothing. Bucket keys always expire.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { buildApp, buildServices } from "../../src/root";
import { createEngine, type Engine } from "../../src/engine";
import { buildTestApp, call, registerUser, type TestApp } from "../helpers/app";
import { postgresAvailable, redisAvailable, redisDbUrl } from "../helpers/services";
import { expectErrorShape, metric } from "./fixture";

const ok = (await redisAvailable()) && (await postgresAvailable());
const REDIS = redisDbUrl(13);
const SLOW = 0.0001;
const BUCKETS = {
  "login-ip": { capacity: 3, refillPerSec: SLOW },
  "login-account": { capacity: 4, refillPerSec: SLOW },
  send: { capacity: 3, refillPerSec: SLOW },
};

describe.skipIf(!ok)("rate limits across instances (PostgreSQL + Redis db 13)", () => {
  let a: TestApp;
  let engineB: Engine;
  let b: ReturnType<typeof buildApp>;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS);
    await redis.flushdb();
    a = await buildTestApp("postgres", { redisUrl: REDIS, buckets: BUCKETS });
    engineB = await createEngine({ redisUrl: REDIS });
    // A second instance: its own engine (connections) over the same Redis and database.
    b = buildApp(buildServices(a.config, { database: a.database, engine: engineB }, { buckets: BUCKETS }));
  }, 30_000);
  afterAll(async () => {
    await engineB?.close();
    await a?.close();
    await redis?.flushdb();
    redis?.disconnect();
  });

  const expect429 = (res: Awaited<ReturnType<typeof call>>, what: string) => {
    expect(res.status, `${what}: ${res.text}`).toBe(429);
    expectErrorShape(res, what);
  };

  test("login per account: attempts spread over two instances share one budget", async () => {
    const user = await registerUser(a.app);
    const apps = [a.app, b, a.app, b];
    for (const [i, app] of apps.entries()) {
      // A different "IP" bucket is not in play: login-ip is keyed "local" for app.handle, so spread it out first.
      await redis.del("ratelimit:login-ip:{local}");
      expect((await call(app, "POST", "/auth/login", { body: { username: i % 2 ? `${user.username}@example.com` : user.username, password: "wrong password" } })).status).toBe(401);
    }
    await redis.del("ratelimit:login-ip:{local}");
    expect429(await call(b, "POST", "/auth/login", { body: { username: user.username, password: user.password } }), "account locked on b");
    expect429(await call(a.app, "POST", "/auth/login", { body: { username: user.username, password: user.password } }), "account locked on a");
  }, 30_000);

  test("login per IP: the third instance-hop does not reset the count", async () => {
    await redis.del("ratelimit:login-ip:{local}");
    const before = await metric(a.app, "huddle_rate_limited_total", { scope: "login-ip" });
    for (const app of [a.app, b, a.app]) expect((await call(app, "POST", "/auth/login", { body: { username: `ghost${Math.random()}`, password: "wrong password" } })).status).toBe(401);
    expect429(await call(b, "POST", "/auth/login", { body: { username: "ghost", password: "wrong password" } }), "ip on b");
    expect(await metric(a.app, "huddle_rate_limited_total", { scope: "login-ip" })).toBe(before + 1);
  }, 30_000);

  test("send per user: messages through either instance draw from one bucket", async () => {
    const x = await registerUser(a.app);
    const y = await registerUser(a.app);
    for (const app of [a.app, b, a.app]) expect((await call(app, "POST", "/chat/send", { token: x.access_token, body: { to: y.user.id, content: "hi" } })).status).toBe(201);
    expect429(await call(b, "POST", "/chat/send", { token: x.access_token, body: { to: y.user.id, content: "spam" } }), "send on b");
    expect((await call(b, "POST", "/chat/send", { token: y.access_token, body: { to: x.user.id, content: "reply" } })).status).toBe(201);
  }, 30_000);

  test("every bucket key in Redis has an expiry", async () => {
    const keys = await redis.keys("ratelimit:*");
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      expect(ttl, key).toBeGreaterThan(0);
    }
  }, 30_000);
});
