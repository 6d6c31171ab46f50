/**
 * The sandbox contract on PGlite: one builder snapshot for the file, one
 * runner child process started from it (replaced after each timeout).
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { ChildClient, ChildGoneError, processRssKb } from "../../../src/sandbox/pglite-client";
import { PgliteSandboxBackend } from "../../../src/sandbox/pglite-sandbox";
import { RunnerPool } from "../../../src/sandbox/pool";
import { LazyRunnerPool } from "../../../src/sandbox/lazy";
import { importPack } from "../../../src/judge/judge";
import { PackError } from "../../../src/judge/pack";
import { clubdataPack } from "./clubdata-pack";
import { LIMITS, sandboxContract } from "./contract";

/** Live `__sandbox-child` processes whose parent is this test process (from /proc). */
function sandboxChildren(): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const state = stat.slice(stat.lastIndexOf(")") + 2)[0];
      if (ppid === process.pid && state !== "Z" && readFileSync(`/proc/${d}/cmdline`, "utf8").includes("__sandbox-child")) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

sandboxContract("pglite sandbox", async () => {
  const pool = new RunnerPool(await PgliteSandboxBackend.create({ builderIdleMs: 2000 }), { size: 1, queueTimeoutMs: 500 });
  const footprint = async () => {
    const children = sandboxChildren();
    return { count: children.length, rssKb: processRssKb(process.pid) + children.reduce((n, pid) => n + processRssKb(pid), 0) };
  };
  return { pool, runnerRole: "huddle_runner", footprint, close: () => pool.close() };
}, (harness) => describe("pglite only", () => {
  test("too deep a recursion aborts PGlite's engine (no 54001 there): the child is replaced before the next job", async () => {
    const { pool } = harness();
    const before = pool.stats().restarts[0]!;
    expect(await pool.run("cd", "select repeat('[', 100000)::jsonb", LIMITS)).toMatchObject({ ok: false, verdict: "resource_limit_exceeded" });
    expect(pool.stats().restarts[0]).toBe(before + 1);
    // On the aborted engine this instant error hung until the time limit.
    expect(await pool.run("cd", "select array_fill(1, array[1000000000])", LIMITS)).toMatchObject({ ok: false, verdict: "resource_limit_exceeded", sqlstate: "54000" });
  }, 15_000);

  test("a reference solution that aborts the builder's engine refuses the import, and the next import gets a fresh builder", async () => {
    const { pool } = harness();
    const good = await clubdataPack();
    const deep = { ...good, pack: { ...good.pack, problems: [{ ...good.pack.problems[0]!, id: "clubdata-deep", solution: "select repeat('[', 100000)::jsonb" }] } };
    const err = await importPack(pool, deep).catch((e) => e);
    expect(err).toBeInstanceOf(PackError);
    expect(err.message).toMatch(/clubdata-deep.*call stack/);
    const again = await importPack(pool, good);
    expect(again.problems.map((p) => p.id)).toEqual(good.pack.problems.map((p) => p.id));
    expect(await pool.run("cd", "select count(*) from bookings", LIMITS)).toMatchObject({ ok: true, rows: [["4044"]] });
  }, 60_000);

  test("a timeout replaces the child and counts a restart; the next job runs on a fresh one", async () => {
    const { pool } = harness();
    const before = pool.stats().restarts[0]!;
    expect(await pool.run("cd", "select count(*) from bookings a, bookings b, bookings c, bookings d", LIMITS)).toMatchObject({ ok: false, verdict: "time_limit_exceeded" });
    expect(pool.stats().restarts[0]).toBe(before + 1);
    expect(await pool.run("cd", "select count(*) from bookings", LIMITS)).toMatchObject({ ok: true, rows: [["4044"]] });
  }, 30_000); // a fresh Worker from the snapshot takes ~0.6 s on a quiet machine, several seconds on a loaded one

  test("a child that dies rejects its pending call at once, whether it throws or exits", async () => {
    for (const sql of ["throw", "exit"]) {
      const client = new ChildClient({ cmd: [process.execPath, new URL("./crash-child.ts", import.meta.url).pathname] });
      const started = performance.now();
      const err = await client.call({ op: "run", schema: "cd", sql, limits: LIMITS }, 10_000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChildGoneError);
      expect(performance.now() - started).toBeLessThan(5_000);
      expect(client.alive).toBe(false);
      client.terminate();
    }
  });

  test("jobs run as a non-superuser role that cannot call set_config (no way back to the superuser in one statement)", async () => {
    // pg_roles is revoked from PUBLIC too; rolsuper shows through the role's own settings instead.
    const o = await harness().pool.run("cd", `select current_user, current_setting('is_superuser'),
      has_function_privilege('set_config(text, text, boolean)', 'execute'), has_language_privilege('plpgsql', 'usage')`, LIMITS);
    expect(o).toMatchObject({ ok: true, rows: [["huddle_runner", "off", "f", "f"]] });
  });
}));

describe("lazy runner pool (the server's PGlite sandbox)", () => {
  test("no runner process before the first job, one while jobs come, none again after SANDBOX_IDLE_MS", async () => {
    const before = sandboxChildren().length;
    let opened = 0;
    const lazy = new LazyRunnerPool("pglite", {
      open: async () => (opened++, new RunnerPool(await PgliteSandboxBackend.create({ builderIdleMs: 0 }), { size: 1, queueTimeoutMs: 30_000 })),
      idleMs: 500,
    });
    try {
      expect(lazy.open).toBe(false);
      expect(sandboxChildren().length).toBe(before);
      expect(await lazy.run("pg_catalog", "select 1", LIMITS)).toMatchObject({ ok: true, rows: [["1"]] });
      expect(lazy.open).toBe(true);
      expect(sandboxChildren().length).toBeGreaterThan(before);
      for (let i = 0; i < 200 && (lazy.open || sandboxChildren().length > before); i++) await Bun.sleep(100);
      expect(lazy.open).toBe(false);
      expect(sandboxChildren().length).toBe(before);
      // The next job opens a fresh pool.
      expect(await lazy.run("pg_catalog", "select 2", LIMITS)).toMatchObject({ ok: true, rows: [["2"]] });
      expect(opened).toBe(2);
    } finally {
      await lazy.close();
    }
  }, 60_000);
});

describe("runner memory limit (SANDBOX_MEMORY_MB)", () => {
  test("a job that grows its runner past the limit is resource_limit_exceeded; the runner is replaced and the next job runs", async () => {
    const pool = new RunnerPool(await PgliteSandboxBackend.create({ builderIdleMs: 0, memoryLimitMb: 230 }), { size: 1, queueTimeoutMs: 30_000 });
    try {
      expect(await pool.run("pg_catalog", "select 1", LIMITS)).toMatchObject({ ok: true });
      // About 400 MB of text built inside PGlite's memory.
      const big = await pool.run("pg_catalog", "select length(string_agg(repeat('x', 4000), '')) from generate_series(1, 100000)", { timeoutMs: 30_000, maxRows: 10 });
      expect(big).toMatchObject({ ok: false, verdict: "resource_limit_exceeded", error: "the query used more than 230 MB of sandbox memory" });
      expect(pool.stats().restarts[0]).toBe(1);
      expect(await pool.run("pg_catalog", "select 2", LIMITS)).toMatchObject({ ok: true, rows: [["2"]] });
      expect(sandboxChildren().length).toBe(1); // the killed child is gone, its replacement ran the job
    } finally {
      await pool.close();
    }
  }, 90_000);
});

describe("runner JIT tier (PGLITE_RUNNER_JIT)", () => {
  const jscOptions = (pid: number) => readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter((v) => v.startsWith("BUN_JSC_"));

  test("runners start with the baseline tier only by default, the builder with every tier; `optimizing` gives runners every tier", async () => {
    const light = await PgliteSandboxBackend.create({ builderIdleMs: 0 });
    const full = await PgliteSandboxBackend.create({ builderIdleMs: 0, jit: "optimizing" });
    try {
      const runner = await light.startWorker(null, "runner");
      const builder = await light.startWorker(null, "builder");
      const optimizing = await full.startWorker(null, "runner");
      try {
        expect(jscOptions(runner.pid)).toContain("BUN_JSC_useOMGJIT=false");
        expect(jscOptions(builder.pid)).not.toContain("BUN_JSC_useOMGJIT=false");
        expect(jscOptions(optimizing.pid)).not.toContain("BUN_JSC_useOMGJIT=false");
      } finally {
        for (const c of [runner, builder, optimizing]) c.terminate();
      }
    } finally {
      await light.close();
      await full.close();
    }
  }, 60_000);
});
