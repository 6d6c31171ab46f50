/**
 * Processes the bench starts: its own redis-server, the bench database,
 * Huddle instances, peers and load generators. Everything listens on
 * 127.0.0.1, is tracked here, and is killed on exit (also on Ctrl-C or a
 * failed scenario), so a bench run never leaves a process behind.
 */
import type { Subprocess } from "bun";
import postgres from "postgres";

export const ROOT = new URL("../..", import.meta.url).pathname;
export const JWT_SECRET = "bench-secret-bench-secret-bench-secret-01";
export const ADMIN_DB_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export type Child = {
  name: string;
  proc: Subprocess<"pipe" | "ignore", "pipe", "pipe">;
  pid: number;
  output(): string;
  /** Stops the process (SIGTERM, then SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
};

const children = new Set<Child>();

export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** `ownStdout`: the caller reads stdout itself (answers, results); otherwise it is kept for error messages. */
export function spawnChild(name: string, cmd: string[], opts: { env?: Record<string, string>; stdin?: boolean; ownStdout?: boolean; cwd?: string } = {}): Child {
  let out = "";
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env } as Record<string, string>,
    stdin: opts.stdin ? "pipe" : "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      out = (out + dec.decode(value)).slice(-20_000);
    }
  };
  if (!opts.ownStdout) void collect(proc.stdout);
  void collect(proc.stderr);
  const child: Child = {
    name, proc, pid: proc.pid, output: () => out,
    async stop(graceMs = 3000) {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await proc.exited;
      clearTimeout(timer);
    },
  };
  children.add(child);
  return child;
}

export function killAll() {
  for (const c of children) {
    try {
      c.proc.kill("SIGKILL");
    } catch {}
  }
  children.clear();
}

let hooked = false;
export function killChildrenOnExit() {
  if (hooked) return;
  hooked = true;
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => (killAll(), process.exit(130)));
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, child?: Child, everyMs = 50) {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (child && child.proc.exitCode !== null) throw new Error(`${child.name} exited with ${child.proc.exitCode}:\n${child.output()}`);
    if (await check().catch(() => false)) return;
    await Bun.sleep(everyMs);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${child ? `:\n${child.output()}` : ""}`);
}

export const httpOk = (url: string) => async () => (await fetch(url)).status === 200;

export type RedisServer = { url: string; port: number; child: Child; stop(): Promise<void> };

/** A bench-owned redis-server without persistence, so the bench may FLUSHALL it at will. */
export async function ownRedis(): Promise<RedisServer> {
  const port = freePort();
  const child = spawnChild("redis-server", ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxclients", "20000"]);
  await waitFor("redis-server", async () => {
    const c = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    c.end();
    return true;
  }, 5000, child);
  return { url: `redis://127.0.0.1:${port}`, port, child, stop: () => child.stop() };
}

export type BenchDb = { url: string; name: string; drop(): Promise<void> };

/**
 * `huddle_bench` (recreated empty) on the local PostgreSQL; drop() also removes the judge's sandbox database.
 * BENCH_DATABASE names another one, so two benches on one PostgreSQL do not drop each other's database.
 */
export async function benchDatabase(name = process.env.BENCH_DATABASE ?? "huddle_bench"): Promise<BenchDb> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(name)) throw new Error(`BENCH_DATABASE: ${name} is not a plain lower-case identifier`);
  const dropAll = async () => {
    const admin = postgres(ADMIN_DB_URL, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.unsafe(`drop database if exists ${name}_sandbox with (force)`);
    } finally {
      await admin.end({ timeout: 1 });
    }
  };
  await dropAll();
  const admin = postgres(ADMIN_DB_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end({ timeout: 1 });
  const u = new URL(ADMIN_DB_URL);
  u.pathname = `/${name}`;
  return { url: u.toString(), name, drop: dropAll };
}

export type Server = { name: string; base: string; ws: string; port: number; child: Child };

/**
 * One Huddle instance (`bun run src/main.ts serve`), ready when /ready answers 200.
 * BENCH_HUDDLE_MAIN points at another checkout's src/main.ts, for A/B runs of a change.
 */
export async function startHuddle(name: string, env: Record<string, string>, cmd?: string[]): Promise<Server> {
  const port = freePort();
  // BENCH_HUDDLE_BUN_FLAGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof" profiles the servers (written when they exit).
  const flags = (process.env.BENCH_HUDDLE_BUN_FLAGS ?? "").split(" ").filter(Boolean);
  const child = spawnChild(name, cmd ?? ["bun", ...flags, "run", process.env.BENCH_HUDDLE_MAIN ?? "src/main.ts", "serve"], {
    env: {
      NODE_ENV: "production", LOG_LEVEL: "warn", JWT_SECRET, HOST: "127.0.0.1", PORT: String(port),
      RATE_LIMIT_SCALE: "1000000", ...env,
    },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(name, httpOk(`${base}/ready`), 60_000, child);
  return { name, base, ws: `ws://127.0.0.1:${port}`, port, child };
}

/** A peer server script from bench/peers, ready when it answers HTTP on its port. */
export async function startPeer(name: string, script: string, env: Record<string, string>, runtime: "bun" | "node" = "bun"): Promise<Server> {
  const port = freePort();
  const child = spawnChild(name, [runtime, script], { env: { PORT: String(port), ...env } });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(name, async () => (await fetch(`${base}/health`)).ok, 20_000, child);
  return { name, base, ws: `ws://127.0.0.1:${port}`, port, child };
}

