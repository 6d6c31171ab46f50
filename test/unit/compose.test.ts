/**
 * compose.yaml, read the way compose reads it (YAML with anchors and merge
 * keys, via Bun.YAML): the services, roles, health checks and settings the
 * README's "Deploy with Docker Compose" promises, and that it agrees with the
 * Dockerfile (port, DATA_DIR) and keeps secrets out of the build context.
 * No Docker engine runs here, so this is what can be checked without one.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "../..");
const read = (f: string) => readFileSync(join(root, f), "utf8");

type Service = {
  image?: string; build?: unknown; command?: string[]; ports?: string[]; volumes?: string[];
  environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] }; stop_grace_period?: string;
};
const compose = Bun.YAML.parse(read("compose.yaml")) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const huddle = Object.entries(services).filter(([, s]) => s.command?.[0] === "serve");
const role = (s: Service) => s.command![s.command!.indexOf("--role") + 1];
const healthcheck = (s: Service) => s.healthcheck!.test.join(" ");

// What the Dockerfile sets for the runtime image: the port and DATA_DIR the compose file relies on.
const dockerfile = read("Dockerfile");
const imagePort = /PORT=(\d+)/.exec(dockerfile)![1];
const imageDataDir = /DATA_DIR=(\S+)/.exec(dockerfile)![1]!;

describe("compose.yaml", () => {
  test("runs two API instances, one worker, PostgreSQL and Redis", () => {
    expect(Object.keys(services).sort()).toEqual(["api-1", "api-2", "postgres", "redis", "worker"]);
    expect(huddle.map(([name, s]) => [name, role(s)]).sort()).toEqual([["api-1", "api"], ["api-2", "api"], ["worker", "worker"]]);
  });

  test("every Huddle instance is production, on the shared PostgreSQL and Redis, with a required JWT secret", () => {
    for (const [, s] of huddle) {
      const env = s.environment!;
      expect(env.NODE_ENV).toBe("production");
      expect(new URL(env.DATABASE_URL!.replace(/\$\{[^}]*\}/g, "x")).host).toBe("postgres:5432");
      expect(new URL(env.REDIS_URL!).host).toBe("redis:6379");
      // `:?` makes compose refuse to start without it instead of passing an empty secret.
      expect(env.JWT_SECRET).toStartWith("${JWT_SECRET:?");
      expect(s.build).toBeDefined();
    }
  });

  test("Huddle instances are healthy on /ready at the image's port and start after healthy stores", () => {
    for (const [, s] of huddle) {
      expect(healthcheck(s)).toContain(`http://127.0.0.1:${imagePort}/ready`);
      expect(s.depends_on).toEqual({ postgres: { condition: "service_healthy" }, redis: { condition: "service_healthy" } });
      // Longer than the SIGTERM drain's own limits (README), Docker's 10 s default is not.
      expect(Number.parseInt(s.stop_grace_period!)).toBeGreaterThanOrEqual(20);
    }
  });

  test("API instances publish the image's port on distinct host ports; the worker publishes none", () => {
    const hostPorts = huddle.filter(([, s]) => role(s) === "api").map(([, s]) => {
      expect(s.ports).toHaveLength(1);
      const parts = s.ports![0]!.split(/:(?![^{]*\})/);
      expect(parts.at(-1)).toBe(imagePort);
      return parts.at(-2);
    });
    expect(new Set(hostPorts).size).toBe(2);
    expect(services.worker!.ports).toBeUndefined();
  });

  test("one data volume at the image's DATA_DIR is shared by every instance (uploads cross roles)", () => {
    for (const [, s] of huddle) expect(s.volumes).toContain(`huddle-data:${imageDataDir}`);
    expect(dockerfile).toContain(`install -d -o huddle -g huddle ${imageDataDir}`);
    const named = Object.values(services).flatMap((s) => s.volumes ?? []).map((v) => v.split(":")[0]!).filter((v) => !v.startsWith("."));
    for (const v of named) expect(Object.keys(compose.volumes)).toContain(v);
  });

  test("PostgreSQL: pg_isready health check, a data volume, and the sandbox init script it mounts", () => {
    const pg = services.postgres!;
    expect(healthcheck(pg)).toContain("pg_isready");
    expect(pg.volumes).toContain("postgres-data:/var/lib/postgresql/data");
    const init = pg.volumes!.find((v) => v.endsWith(":/docker-entrypoint-initdb.d:ro"))!.split(":")[0]!;
    const script = join(root, init, "10-sandbox-runner.sh");
    expect(existsSync(script)).toBe(true);
    expect(statSync(script).mode & 0o111).not.toBe(0);
    // The database Huddle derives from DATABASE_URL (<db>_sandbox) and its default runner role.
    const db = new URL(services.worker!.environment!.DATABASE_URL!.replace(/\$\{[^}]*\}/g, "x")).pathname.slice(1);
    expect(readFileSync(script, "utf8")).toContain(`host ${db}_sandbox huddle_sandbox_runner samenet trust`);
  });

  test("Redis: AOF every second, no eviction, redis-cli ping health check, a data volume", () => {
    const redis = services.redis!;
    const cmd = redis.command!.join(" ");
    expect(cmd).toContain("--appendonly yes");
    expect(cmd).toContain("--appendfsync everysec");
    expect(cmd).toContain("--maxmemory-policy noeviction");
    expect(healthcheck(redis)).toContain("redis-cli ping");
    expect(redis.volumes).toContain("redis-data:/data");
  });
});

describe(".dockerignore", () => {
  test("keeps secrets, local state, dependencies and build output out of the build context", () => {
    const lines = read(".dockerignore").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    for (const entry of ["**/.git", "**/node_modules", "dist/", "data/", "**/.env", "**/.env.*", "bench/out/", "test-output/"]) {
      expect(lines).toContain(entry);
    }
  });
});
