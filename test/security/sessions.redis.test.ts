/**
 * A password change reaches every instance (two runtimes over one PostgreSQL
 * database and Redis db 9): the other instance closes the user's sockets with
 * 4001 and refuses access tokens it had just accepted (its cached generation
 * is raised by the broadcast, not after the cache expires). And a refresh
 * racing the change never leaves a session behind (PostgreSQL row locks).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import postgres from "postgres";
import { startRuntime, type Runtime } from "../../src/root";
import { createEngine } from "../../src/engine";
import { openDatabase } from "../../src/db/client";
import { GENERATION_CACHE_MS } from "../../src/modules/auth/generations";
import { call, registerUser, testConfig } from "../helpers/app";
import { generousBuckets, TestSocket } from "../helpers/runtime";
import { createTestDatabase, postgresAvailable, redisAvailable, redisDbUrl } from "../helpers/services";

const ok = (await redisAvailable()) && (await postgresAvailable());
const REDIS = redisDbUrl(9);

describe.skipIf(!ok)("password change across instances (PostgreSQL + Redis db 9)", () => {
  let dbUrl: string;
  let dropDb: () => Promise<void>;
  const instances: (Runtime & { wsBase: string })[] = [];
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    const r = new Redis(REDIS);
    await r.flushdb();
    r.disconnect();
    ({ url: dbUrl, drop: dropDb } = await createTestDatabase("sess"));
    for (const name of ["a", "b"]) {
      const config = testConfig({ REDIS_URL: REDIS, DATABASE_URL: dbUrl, INSTANCE_ID: `sess-${name}-${process.pid}`, FILE_WORKER_CONCURRENCY: "0" });
      const database = await openDatabase({ databaseUrl: dbUrl, dataDir: "/tmp", poolSize: 5 });
      const rt = await startRuntime(config, { database, engine: await createEngine({ redisUrl: REDIS }), buckets: generousBuckets() });
      rt.app.listen({ port: 0, hostname: "127.0.0.1" });
      instances.push({ ...rt, wsBase: `ws://127.0.0.1:${rt.app.server!.port}` });
    }
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const rt of instances) await rt.stop();
    await dropDb?.();
  });

  test("the other instance closes the user's sockets with 4001 and refuses its access tokens at once", async () => {
    const [a, b] = instances as [Runtime & { wsBase: string }, Runtime & { wsBase: string }];
    const s1 = await registerUser(a.app, "xi");
    const s2 = (await call(b.app, "POST", "/auth/login", { body: { username: s1.username, password: s1.password } })).json;
    const sock = await TestSocket.connect(`${b.wsBase}/chat/subscribe`, ["bearer", s2.access_token]);
    sockets.push(sock);
    await sock.next((f) => f.type === "ready");
    // b has now seen (and cached) generation 0 for this user.
    expect((await call(b.app, "GET", "/users/me", { token: s2.access_token })).status).toBe(200);

    const t0 = Date.now();
    const res = await call(a.app, "PATCH", "/users/me", { token: s1.access_token, body: { password: "changed on instance a", current_password: s1.password } });
    expect(res.status, res.text).toBe(200);
    expect((await sock.waitClose()).code).toBe(4001);
    let status = 0;
    for (let i = 0; i < 40 && status !== 401; i++) {
      status = (await call(b.app, "GET", "/users/me", { token: s2.access_token })).status;
      if (status !== 401) await Bun.sleep(25);
    }
    expect(status).toBe(401);
    expect(Date.now() - t0).toBeLessThan(GENERATION_CACHE_MS / 2);
    expect((await call(b.app, "GET", "/users/me", { token: res.json.session.access_token })).status).toBe(200);
  }, 30_000);

  test("a refresh racing the change: the token it issues is revoked too", async () => {
    const a = instances[0]!;
    const s1 = await registerUser(a.app, "xr");
    const s2 = (await call(a.app, "POST", "/auth/login", { body: { username: s1.username, password: s1.password } })).json;
    // Hold s2's refresh-token row so the refresh stops half-way, then start the change behind it.
    const holder = postgres(dbUrl, { max: 1, onnotice: () => {} });
    const hashed = new Bun.CryptoHasher("sha256").update(s2.refresh_token).digest("hex");
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const locked = new Promise<void>((ready) => {
      void holder.begin(async (tx) => {
        await tx`select id from refresh_tokens where token_hash = ${hashed} for update`;
        ready();
        await held;
      });
    });
    await locked;
    const refreshing = call(a.app, "POST", "/auth/refresh", { body: { refresh_token: s2.refresh_token } });
    await Bun.sleep(200);
    const changing = a.services.auth.changePassword(s1.user.id, s1.password, "changed during a refresh", null);
    await Bun.sleep(300);
    release();
    const [refreshed] = await Promise.all([refreshing, changing]);
    await holder.end();
    if (refreshed.status === 200) {
      expect((await call(a.app, "POST", "/auth/refresh", { body: { refresh_token: refreshed.json.refresh_token } })).status).toBe(401);
      expect((await call(a.app, "GET", "/users/me", { token: refreshed.json.access_token })).status).toBe(401);
    } else {
      expect(refreshed.status).toBe(401);
    }
  }, 30_000);
});
