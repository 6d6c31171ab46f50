/**
 * Real server processes (`bun run src/main.ts`) and a test-owned redis-server,
 * for the tests that kill, restart or split things. Every process is bounded:
 * tests stop what they start in afterAll, and ports are picked free on 127.0.0.1.
 */
import type { Subprocess } from "bun";

export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export type ServerProcess = {
  port: number;
  base: string;
  wsBase: string;
  proc: Subprocess;
  output: () => string;
  kill(signal?: NodeJS.Signals | number): Promise<number | null>;
};

const ROOT = new URL("../..", import.meta.url).pathname;

export async function spawnServer(env: Record<string, string>, args: string[] = ["serve"]): Promise<ServerProcess> {
  const port = freePort();
  let out = "";
  const proc = Bun.spawn(["bun", "run", `${ROOT}src/main.ts`, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "warn", NODE_ENV: "test", JWT_SECRET: "test-secret-test-secret-test-secret-0123", HOST: "127.0.0.1", PORT: String(port), ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      out = (out + new TextDecoder().decode(value)).slice(-20_000);
    }
  };
  void collect(proc.stdout as ReadableStream<Uint8Array>);
  void collect(proc.stderr as ReadableStream<Uint8Array>);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {}
    await Bun.sleep(100);
    if (i === 199) throw new Error(`server did not start:\n${out}`);
  }
  return {
    port, base, wsBase: `ws://127.0.0.1:${port}`, proc, output: () => out,
    kill: async (signal = "SIGKILL") => {
      if (proc.exitCode === null) proc.kill(signal);
      return proc.exited;
    },
  };
}

export type RedisProcess = { port: number; url: string; stop(): Promise<void>; start(): Promise<void> };

/** A private redis-server (no persistence) that a test may stop and start at will. */
export async function ownRedis(): Promise<RedisProcess> {
  const port = freePort();
  let proc: Subprocess | null = null;
  const start = async () => {
    proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 100; i++) {
      try {
        const c = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
        c.end();
        return;
      } catch {
        await Bun.sleep(50);
      }
    }
    throw new Error("redis-server did not start");
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop: async () => {
      const p = proc as Subprocess | null;
      if (p && p.exitCode === null) {
        p.kill("SIGKILL");
        await p.exited;
      }
    },
  };
}

export async function json(base: string, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data: any;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, json: data, text };
}

let n = 0;
export async function registerOver(base: string, prefix = "p") {
  const username = `${prefix}${Date.now().toString(36)}${(n++).toString(36)}`;
  const res = await json(base, "POST", "/auth/register", { username, email: `${username}@example.com`, password: "correct horse battery" });
  if (res.status !== 201) throw new Error(`register failed ${res.status} ${res.text}`);
  return res.json as { user: { id: string }; access_token: string; refresh_token: string };
}
