import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config";
import { parseClusterNodes } from "../../src/engine";

const dir = () => mkdtempSync(join(tmpdir(), "huddle-cfg-"));

describe("config", () => {
  test("defaults and numeric conversion", () => {
    const c = loadConfig({ DATA_DIR: dir(), PORT: "8080", CONVERSATION_IDLE_MS: "500" });
    expect(c.PORT).toBe(8080);
    expect(c.CONVERSATION_IDLE_MS).toBe(500);
    expect(c.HOST).toBe("0.0.0.0");
    expect(c.DATABASE_URL).toBeUndefined();
  });

  test("a bad value names the variable", () => {
    expect(() => loadConfig({ DATA_DIR: dir(), PORT: "eighty" })).toThrow(/PORT/);
    expect(() => loadConfig({ DATA_DIR: dir(), PORT: "70000" })).toThrow(/PORT/);
    expect(() => loadConfig({ DATA_DIR: dir(), REDIS_URL: "http://nope" })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ DATA_DIR: dir(), LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ DATA_DIR: dir(), REDIS_CLUSTER_NODES: "10.0.0.1:6379,10.0.0.2" })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => loadConfig({ DATA_DIR: dir(), JWT_SECRET: "short" })).toThrow(ConfigError);
  });

  test("REDIS_CLUSTER_NODES: seed nodes, one of them may carry the password and TLS for all", () => {
    const c = loadConfig({ DATA_DIR: dir(), REDIS_CLUSTER_NODES: "10.0.0.1:7000,rediss://:s3cret@node-b:7001", REDIS_WAIT_REPLICAS: "1" });
    expect(c.REDIS_WAIT_REPLICAS).toBe(1);
    expect(parseClusterNodes(c.REDIS_CLUSTER_NODES!)).toEqual({
      url: "rediss://:s3cret@node-b:7001",
      clusterNodes: [{ host: "10.0.0.1", port: 7000 }, { host: "node-b", port: 7001 }],
    });
    expect(parseClusterNodes("a:1,b:2").url).toBe("redis://a:1");
  });

  test("development secret is generated once and kept in DATA_DIR", () => {
    const d = dir();
    const a = loadConfig({ DATA_DIR: d });
    const b = loadConfig({ DATA_DIR: d });
    expect(a.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(b.JWT_SECRET).toBe(a.JWT_SECRET);
    expect(readFileSync(join(d, "jwt-secret"), "utf8").trim()).toBe(a.JWT_SECRET);
  });

  test("TRUSTED_PROXIES and METRICS_TOKEN: off unless set", () => {
    const c = loadConfig({ DATA_DIR: dir() });
    expect(c.TRUSTED_PROXIES).toBe("");
    expect(c.METRICS_TOKEN).toBeUndefined();
    const set = loadConfig({ DATA_DIR: dir(), TRUSTED_PROXIES: "10.0.0.0/8", METRICS_TOKEN: "0123456789abcdef" });
    expect(set.TRUSTED_PROXIES).toBe("10.0.0.0/8");
    expect(set.METRICS_TOKEN).toBe("0123456789abcdef");
    expect(() => loadConfig({ DATA_DIR: dir(), METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN/);
  });

  test("DATABASE_POOLER is session unless set; DATABASE_DIRECT_URL defaults to DATABASE_URL", () => {
    const url = "postgres://app@pooler:6432/huddle";
    const plain = loadConfig({ DATA_DIR: dir(), DATABASE_URL: url });
    expect(plain.DATABASE_POOLER).toBe("session");
    expect(plain.DATABASE_DIRECT_URL).toBe(url);
    const pooled = loadConfig({ DATA_DIR: dir(), DATABASE_URL: url, DATABASE_POOLER: "transaction", DATABASE_DIRECT_URL: "postgres://app@db:5432/huddle" });
    expect(pooled.DATABASE_POOLER).toBe("transaction");
    expect(pooled.DATABASE_DIRECT_URL).toBe("postgres://app@db:5432/huddle");
    expect(() => loadConfig({ DATA_DIR: dir(), DATABASE_POOLER: "statement" })).toThrow(/DATABASE_POOLER/);
    expect(() => loadConfig({ DATA_DIR: dir(), DATABASE_DIRECT_URL: "mysql://x" })).toThrow(/DATABASE_DIRECT_URL/);
  });

  test("production refuses to start without JWT_SECRET", () => {
    expect(() => loadConfig({ DATA_DIR: dir(), NODE_ENV: "production" })).toThrow(/JWT_SECRET/);
  });
});

describe("defaults chosen by backend", () => {
  const base = { JWT_SECRET: "test-secret-test-secret-test-secret-0123", DATA_DIR: "/tmp/huddle-config-test" };
  const pg = { DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres" };
  test("the embedded default collects garbage by RSS steps and judges with 2 workers on 1 runner; PostgreSQL with 8 on 4 and no step collector", async () => {
    const { gcStepMb, runnerPoolSize, workerConcurrency } = await import("../../src/root");
    const embedded = loadConfig(base);
    expect([gcStepMb(embedded), workerConcurrency(embedded), runnerPoolSize(embedded)]).toEqual([32, 2, 1]);
    const withPg = loadConfig({ ...base, ...pg });
    expect([gcStepMb(withPg), workerConcurrency(withPg), runnerPoolSize(withPg)]).toEqual([0, 16, 8]);
    const set = loadConfig({ ...base, ...pg, GC_STEP_MB: "64", WORKER_CONCURRENCY: "0", RUNNER_POOL_SIZE: "2" });
    expect([gcStepMb(set), workerConcurrency(set), runnerPoolSize(set)]).toEqual([64, 0, 2]);
  });
});
