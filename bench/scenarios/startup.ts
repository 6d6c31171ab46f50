/**
 * Scenario 6, start-up: time from exec of the binary (dist/huddle, built by
 * `bun run build` when missing or with --build) to the first 200 from /ready,
 * polled every 10 ms. With PostgreSQL + Redis: on an empty `huddle_bench`
 * (migrations run) and again on the migrated one; with embedded defaults: a
 * fresh DATA_DIR (PGlite initdb) and again on the same directory. /ready does
 * not wait for the judge's sandbox, which loads the problem pack afterwards.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { benchDatabase, freePort, JWT_SECRET, ROOT, spawnChild } from "../lib/procs";
import { row, type Ctx, type ScenarioResult } from "../lib/report";
import { fmt, median } from "../lib/stats";
import { rssKB } from "../lib/sys";

export const BINARY = `${ROOT}dist/huddle`;
const stopMs: number[] = [];

async function timeToReady(name: string, env: Record<string, string>, kill = false) {
  const port = freePort();
  const t0 = performance.now();
  const child = spawnChild(name, [BINARY, "serve"], { env: { NODE_ENV: "production", LOG_LEVEL: "warn", JWT_SECRET, HOST: "127.0.0.1", PORT: String(port), ...env } });
  try {
    for (;;) {
      if (child.proc.exitCode !== null) throw new Error(`${name} exited with ${child.proc.exitCode}:\n${child.output()}`);
      if (performance.now() - t0 > 120_000) throw new Error(`${name}: /ready not 200 after 120 s:\n${child.output()}`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status === 200, () => false);
      if (ok) break;
      await Bun.sleep(10);
    }
    return { ms: performance.now() - t0, rssMB: rssKB(child.pid) / 1024 };
  } finally {
    const s0 = performance.now();
    if (kill) child.proc.kill("SIGKILL");
    await child.stop(15_000);
    if (!kill) stopMs.push(Math.round(performance.now() - s0));
  }
}

/** dist/huddle, built by `bun run build` when missing or when asked. */
export function ensureBinary(ctx: Ctx, rebuild = false) {
  if (!rebuild && existsSync(BINARY)) return;
  ctx.log("bun run build");
  const b = Bun.spawnSync(["bun", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (b.exitCode !== 0) throw new Error(`bun run build failed:\n${b.stderr}`);
}

export async function startupScenario(ctx: Ctx, rebuild = false): Promise<ScenarioResult> {
  ensureBinary(ctx, rebuild);
  const built = statSync(BINARY).mtime.toISOString();
  const repeats = ctx.full ? 3 : 1;
  const runs: Record<string, { ms: number; rssMB: number }[]> = { "pg-cold": [], "pg-warm": [], "embedded-cold": [], "embedded-warm": [] };
  const redis = new Redis(ctx.redis.url);
  try {
    for (let i = 0; i < repeats; i++) {
      await benchDatabase(ctx.db.name); // empty again: the cold start migrates
      await redis.flushall();
      const env = { DATABASE_URL: ctx.db.url, REDIS_URL: ctx.redis.url };
      runs["pg-cold"]!.push(await timeToReady("huddle-bin-pg", env));
      runs["pg-warm"]!.push(await timeToReady("huddle-bin-pg", env));
      const dir = mkdtempSync(join(tmpdir(), "huddle-bench-data-"));
      try {
        // Quick runs skip the warm embedded start: a graceful stop while the sandbox still loads takes ~8 s.
        runs["embedded-cold"]!.push(await timeToReady("huddle-bin-embedded", { DATA_DIR: dir }, !ctx.full));
        if (ctx.full) runs["embedded-warm"]!.push(await timeToReady("huddle-bin-embedded", { DATA_DIR: dir }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      ctx.log(`startup: ${Object.entries(runs).filter(([, v]) => v[i]).map(([k, v]) => `${k} ${Math.round(v[i]!.ms)} ms`).join(", ")}`);
    }
  } finally {
    redis.disconnect();
  }
  const sc = "start-up, exec → /ready 200 (dist/huddle)";
  const m = (k: string) => median(runs[k]!.map((r) => r.ms));
  const rss = (k: string) => median(runs[k]!.map((r) => r.rssMB));
  const label = repeats > 1 ? ` (median of ${repeats})` : "";
  return {
    name: "startup",
    rows: [
      row(sc, `PostgreSQL + Redis, empty database / migrated, ms${label}`, `${fmt(m("pg-cold"))} / ${fmt(m("pg-warm"))}`, "", "", "migrated < 250 ms", m("pg-warm") < 250 ? "met" : "missed"),
      row(sc, `embedded defaults, fresh DATA_DIR / reused, ms${label}`, `${fmt(m("embedded-cold"))} / ${ctx.full ? fmt(m("embedded-warm")) : "(full run only)"}`),
      row(sc, "RSS at ready, MB: PostgreSQL + Redis / embedded", `${fmt(rss("pg-warm"))} / ${fmt(rss("embedded-cold"))}`),
    ],
    notes: [`binary built ${built}.`],
    raw: { binary: BINARY, built, runs, stopMs },
  };
}
