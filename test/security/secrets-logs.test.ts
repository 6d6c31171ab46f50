/**
 * Secrets never reach the terminal or the logs: config errors name the
 * variable but not its value (anything called *URL*, *SECRET*, *KEY*,
 * *PASSWORD*, *TOKEN*); every log line has URL passwords, `token=` query
 * values, bearer tokens and JWTs replaced by [REDACTED]. Checked on what real
 * processes write to stderr, since that is what a log collector ships.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config";
import { call } from "../helpers/app";
import { freePort, spawnServer, type ServerProcess } from "../helpers/process";

const ROOT = new URL("../..", import.meta.url).pathname;
const MARK = "pw-hunter2-7f3a"; // a secret that must not appear anywhere
const dir = () => mkdtempSync(join(tmpdir(), "huddle-sec-"));

async function run(cmd: string[], env: Record<string, string>) {
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { output: out + err, code };
}

describe("secrets stay out of config errors", () => {
  test("a bad secret-bearing setting is named, its value is not", () => {
    const cases: Record<string, string> = {
      DATABASE_URL: `mysql://app:${MARK}@db.internal/app`,
      REDIS_URL: `http://:${MARK}@cache.internal:6379`,
      SANDBOX_DATABASE_URL: `mysql://${MARK}`,
      S3_ENDPOINT: `ftp://key:${MARK}@s3`,
      JWT_SECRET: MARK,
      METRICS_TOKEN: "pw-hunter2",
    };
    for (const [name, value] of Object.entries(cases)) {
      let message = "";
      try {
        loadConfig({ DATA_DIR: dir(), [name]: value });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        message = (err as Error).message;
      }
      expect(message, name).toContain(name);
      expect(message, name).not.toContain("hunter2");
    }
    // Harmless settings still show the value: it helps, and it is not a secret.
    expect(() => loadConfig({ DATA_DIR: dir(), PORT: "eighty" })).toThrow(/PORT="eighty"/);
  });

  test("the binary's start-up error (exit 2) shows no secret", async () => {
    const { output, code } = await run(["bun", "run", "src/main.ts", "migrate"], { DATA_DIR: dir(), REDIS_URL: `http://:${MARK}@cache:6379` });
    expect(code).toBe(2);
    expect(output).toContain("REDIS_URL");
    expect(output).not.toContain(MARK);
  }, 30_000);
});

describe("secrets stay out of log lines", () => {
  test("URL passwords, token query values, bearer tokens and JWTs in any field, message or error are redacted", async () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
    const script = `
      import { log } from "./src/lib/log";
      const err = Object.assign(new Error("connect failed: redis://:${MARK}@10.0.0.1:6379/0"), { path: "http://api/chat/subscribe?token=${jwt}" });
      log.error({ err, url: "/chat/subscribe?token=${MARK}&x=1", db: "postgres://app:${MARK}@db/app" }, "GET /chat/subscribe?access_token=${MARK}");
      log.info({ headers: { authorization: "Bearer ${MARK}-${MARK}", "sec-websocket-protocol": "bearer, ${jwt}" } }, "upgrade");`;
    const { output, code } = await run(["bun", "-e", script], { LOG_LEVEL: "info" });
    expect(code, output).toBe(0);
    const lines = output.trim().split("\n");
    expect(lines.length).toBe(2);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow(); // still valid JSON
    expect(output).not.toContain("hunter2");
    expect(output).not.toContain(jwt.split(".")[2]);
    expect(output).toContain("redis://:[REDACTED]@10.0.0.1:6379/0"); // where it went stays readable
    expect(JSON.parse(lines[0]!).url).toBe("/chat/subscribe?token=[REDACTED]&x=1");
  }, 30_000);
});

describe("a real server with a password in REDIS_URL and tokens in WebSocket URLs", () => {
  let server: ServerProcess | undefined;
  afterAll(async () => void (await server?.kill()));

  test("logs at trace level carry neither the password nor the token", async () => {
    // Redis unreachable on purpose: the engine, the actors and the sockets then log errors that
    // mention the connection, which is where a URL would leak.
    server = await spawnServer({
      LOG_LEVEL: "trace", DATA_DIR: dir(), REDIS_URL: `redis://:${MARK}@127.0.0.1:${freePort()}/0`,
      WORKER_CONCURRENCY: "0", FILE_WORKER_CONCURRENCY: "0", RATE_LIMIT_SCALE: "1000",
    });
    const app = { handle: (r: Request) => fetch(new URL(new URL(r.url).pathname + new URL(r.url).search, server!.base), r) };
    const reg = await call(app, "POST", "/auth/register", { body: { username: "leaky", email: "leaky@example.com", password: "correct horse battery" } });
    expect(reg.status, reg.text).toBe(201);
    const token: string = reg.json.access_token;
    const ws = new WebSocket(`${server.wsBase}/chat/subscribe?token=${token}`);
    const frames: string[] = [];
    await new Promise((resolve) => {
      ws.onclose = ws.onerror = resolve;
      setTimeout(resolve, 5000);
      ws.onmessage = (e) => {
        frames.push(String(e.data));
        if (frames.length === 1) {
          ws.send("{not json");
          ws.send(JSON.stringify({ type: "send", conversation_id: Bun.randomUUIDv7(), content: "to nowhere" }));
        }
        if (frames.length === 3) resolve(null);
      };
    });
    ws.close();
    expect(frames[0]).toContain("ready");
    await fetch(`${server.base}/no/such/route?token=${token}`);
    await fetch(`${server.base}/ready`);
    await Bun.sleep(500);
    const output = server.output();
    expect(output).toContain("\"level\":"); // it did log
    expect(output).not.toContain(MARK);
    expect(output).not.toContain(token.split(".")[2]!);
  }, 60_000);
});
