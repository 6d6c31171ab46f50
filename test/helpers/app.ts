/**
 * Builds the real app over a real database and engine for tests that go
 * through `app.handle`, with the composition root's own builders (services,
 * then the app; no actors or sockets). Each file gets its own database: a
 * fresh PostgreSQL database, or an in-memory PGlite shared by the file's tests.
 */
import { buildApp, buildServices, type Services } from "../../src/root";
import type { Bucket } from "../../src/plugins/rate-limit";
import { loadConfig, type Config } from "../../src/config";
import { openDatabase, type Database } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";
import { createEngine } from "../../src/engine";
import { DEFAULT_BUCKETS } from "../../src/plugins/rate-limit";
import type { Engine } from "../../src/engine/types";
import { createTestDatabase } from "./services";

export type Driver = "postgres" | "pglite";

export type TestApp = {
  app: ReturnType<typeof buildApp>;
  services: Services;
  config: Config;
  database: Database;
  engine: Engine;
  close: () => Promise<void>;
};

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: "test",
    JWT_SECRET: "test-secret-test-secret-test-secret-0123",
    LOG_LEVEL: "silent",
    DATA_DIR: "/tmp/huddle-test-data",
    // Judge workers start a sandbox; only the judge tests turn them on.
    WORKER_CONCURRENCY: "0",
    // Many runtimes share one test process: its RSS says nothing about one runtime's garbage.
    GC_STEP_MB: "0",
    ...overrides,
  });
}

export async function openTestDatabase(driver: Driver): Promise<{ database: Database; drop: () => Promise<void> }> {
  if (driver === "postgres") {
    const { url, drop } = await createTestDatabase("app");
    const database = await openDatabase({ databaseUrl: url, dataDir: "/tmp", poolSize: 5 });
    await migrate(database.db);
    return { database, drop: async () => { await database.close(); await drop(); } };
  }
  const { drizzle } = await import("drizzle-orm/pglite");
  const { openPglite } = await import("../../src/db/pglite");
  const schema = await import("../../src/db/schema");
  const pg = await openPglite(); // in memory, from the initdb'd template
  const db = drizzle(pg, { schema }) as unknown as Database["db"];
  await migrate(db);
  const database: Database = { kind: "pglite", db, ping: async () => void (await pg.query("select 1")), close: () => pg.close() };
  return { database, drop: () => database.close() };
}

export async function buildTestApp(driver: Driver, opts: { redisUrl?: string; config?: Record<string, string>; buckets?: Record<string, Bucket> } = {}): Promise<TestApp> {
  const config = testConfig(opts.config);
  const { database, drop } = await openTestDatabase(driver);
  const engine = await createEngine({ redisUrl: opts.redisUrl });
  // Generous buckets so suites can register many users; rate limits have their own tests.
  const buckets = opts.buckets ?? Object.fromEntries(Object.keys(DEFAULT_BUCKETS).map((k) => [k, { capacity: 10_000, refillPerSec: 10_000 }]));
  const services = buildServices(config, { database, engine }, { buckets });
  const app = buildApp(services);
  return {
    app, services, config, database, engine,
    close: async () => {
      await engine.close();
      await drop();
    },
  };
}

/** JSON request helper for app.handle (note: a real host; `http://l/` breaks routing). */
export async function call(app: { handle(r: Request): Promise<Response> }, method: string, path: string, opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
  const text = await res.text();
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

let counter = 0;
/** Registers a fresh user and returns its session. */
export async function registerUser(app: TestApp["app"], prefix = "u") {
  const username = `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;
  const res = await call(app, "POST", "/auth/register", { body: { username, email: `${username}@example.com`, password: "correct horse battery" } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { ...res.json, username, password: "correct horse battery" } as {
    user: { id: string; username: string }; access_token: string; refresh_token: string; username: string; password: string;
  };
}
