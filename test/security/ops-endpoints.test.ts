/**
 * The unauthenticated operations endpoints give nothing away: /ready names a
 * failed check with a short code (SQLSTATE, errno, class name), never the
 * driver's message (which names hosts, users, databases and sometimes quotes a
 * URL); /metrics wants `Authorization: Bearer METRICS_TOKEN` when that is set
 * and stays open when it is not.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { buildApp, buildServices, type Services } from "../../src/root";
import type { AppDeps } from "../../src/app";
import { createEngine } from "../../src/engine";
import type { Database } from "../../src/db/client";
import type { Engine } from "../../src/engine/types";
import { call, openTestDatabase, testConfig } from "../helpers/app";
import { DATABASE_URL, postgresAvailable } from "../helpers/services";
import { expectErrorShape } from "./fixture";

const pgOk = await postgresAvailable();
const SECRET_DB = "huddle_no_such_db_7f3a";

// One PGlite for the file; each test builds the app it needs on top of it.
let database: Database;
let engine: Engine;
let drop: () => Promise<void>;
beforeAll(async () => {
  ({ database, drop } = await openTestDatabase("pglite"));
  engine = await createEngine({});
});
afterAll(async () => {
  await engine.close();
  await drop();
});
const appWith = (config: Record<string, string> = {}, extra: Partial<AppDeps<Services>> = {}) =>
  buildApp(buildServices(testConfig(config), { database, engine }), extra);

describe.skipIf(!pgOk)("/ready shows codes, not driver messages", () => {
  test("a real PostgreSQL error, a thrown URL and a hanging check", async () => {
    const url = new URL(DATABASE_URL);
    url.pathname = `/${SECRET_DB}`;
    const sql = postgres(url.toString(), { max: 1, connect_timeout: 2, onnotice: () => {} });
    const app = appWith({}, {
      checks: [
        { name: "upstream", check: () => sql`select 1` },
        { name: "cache", check: async () => { throw new Error("cannot reach redis://:pw-hunter2@10.0.0.9:6379"); } },
        { name: "stuck", check: () => new Promise(() => {}) },
      ],
    });
    try {
      const res = await call(app, "GET", "/ready");
      expect(res.status).toBe(503);
      expect(res.json.failed).toEqual(["upstream", "cache", "stuck"]);
      expect(res.json.checks.database).toEqual({ ok: true });
      expect(res.json.checks.upstream).toEqual({ ok: false, error: "3D000" }); // SQLSTATE invalid_catalog_name
      expect(res.json.checks.cache).toEqual({ ok: false, error: "check_failed" });
      expect(res.json.checks.stuck).toEqual({ ok: false, error: "timeout" });
      expect(res.text).not.toContain(SECRET_DB);
      expect(res.text).not.toContain("hunter2");
      expect(res.text).not.toContain(url.hostname);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 30_000);
});

describe("/metrics and METRICS_TOKEN", () => {
  const TOKEN = "metrics-token-0123456789abcdef";

  test("with METRICS_TOKEN set: 401 without it or with a wrong one, 200 with it", async () => {
    const app = appWith({ METRICS_TOKEN: TOKEN });
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong-token-0123456789abcdef" }, { authorization: `Bearer ${TOKEN}x` }, { authorization: TOKEN }, { authorization: `Basic ${btoa(`x:${TOKEN}`)}` }];
    for (const headers of attempts) {
      const res = await call(app, "GET", "/metrics", { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expectErrorShape(res, `metrics ${JSON.stringify(headers)}`);
      expect(res.text).not.toContain("huddle_http_requests_total");
    }
    const ok = await call(app, "GET", "/metrics", { token: TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain("huddle_http_requests_total");
    // The other ops endpoints stay open: orchestrators probe them without credentials.
    expect((await call(app, "GET", "/health")).status).toBe(200);
    expect((await call(app, "GET", "/ready")).status).toBe(200);
  });

  test("without METRICS_TOKEN: open, as before", async () => {
    const res = await call(appWith(), "GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.text).toContain("process_cpu_seconds_total");
  });
});
