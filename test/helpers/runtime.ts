/**
 * A full runtime (stores + actors + app) on a test-owned database, optionally
 * listening on a random port for WebSocket tests. Redis-backed runtimes use a
 * logical Redis db of their own: the chat:persist stream is one key per db,
 * and persisters of different test databases must not share it.
 */
import Redis from "ioredis";
import { startRuntime, type Given, type Runtime } from "../../src/root";
import { createEngine } from "../../src/engine";
import { DEFAULT_BUCKETS } from "../../src/plugins/rate-limit";
import { openTestDatabase, testConfig, type Driver } from "./app";
import { redisDbUrl } from "./services";

export type TestRuntime = Runtime & { port: number; base: string; wsBase: string; close(): Promise<void> };

export const generousBuckets = () =>
  Object.fromEntries(Object.keys(DEFAULT_BUCKETS).map((k) => [k, { capacity: 10_000, refillPerSec: 10_000 }]));

export async function buildTestRuntime(driver: Driver, opts: { redisDb?: number; listen?: boolean; config?: Record<string, string>; buckets?: Record<string, { capacity: number; refillPerSec: number }>; modules?: Given["modules"]; fileProcessor?: Given["fileProcessor"]; engineInstance?: string; clusterNodes?: string } = {}): Promise<TestRuntime> {
  const redisUrl = opts.redisDb !== undefined ? redisDbUrl(opts.redisDb) : undefined;
  if (redisUrl) {
    const r = new Redis(redisUrl);
    await r.flushdb();
    r.disconnect();
  }
  const config = testConfig({
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}), ...(opts.clusterNodes ? { REDIS_CLUSTER_NODES: opts.clusterNodes } : {}),
    CONVERSATION_IDLE_MS: "500", ...opts.config,
  });
  const { database, drop } = await openTestDatabase(driver);
  // A named engine instance lets a test find (and kill) its Redis connections in CLIENT LIST.
  const engine = await createEngine({
    redisUrl, redisClusterNodes: opts.clusterNodes, chatTtlSec: config.CHAT_CACHE_TTL_SEC,
    ...(opts.engineInstance ? { instance: opts.engineInstance, maxBackoffMs: 100 } : {}),
  });
  const rt = await startRuntime(config, {
    database, engine, buckets: opts.buckets ?? generousBuckets(),
    ...(opts.modules ? { modules: opts.modules } : {}),
    ...(opts.fileProcessor ? { fileProcessor: opts.fileProcessor } : {}),
  });
  let port = 0;
  if (opts.listen) {
    rt.app.listen({ port: 0, hostname: "127.0.0.1" });
    port = rt.app.server!.port!;
  }
  return {
    ...rt,
    port,
    base: `http://127.0.0.1:${port}`,
    wsBase: `ws://127.0.0.1:${port}`,
    close: async () => {
      await rt.stop();
      await drop().catch(() => {});
    },
  };
}

/** A WebSocket client that collects frames and lets a test wait for one. */
export class TestSocket {
  readonly frames: any[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (e) => {
      const f = JSON.parse(String(e.data));
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => (w.pred(f) ? (w.resolve(f), false) : true));
    });
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
      for (const w of this.closeWaiters.splice(0)) w(this.closed);
    });
  }

  static async connect(url: string, protocols?: string[]): Promise<TestSocket> {
    const ws = new WebSocket(url, protocols);
    const s = new TestSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("websocket error")), { once: true });
      ws.addEventListener("close", (e) => reject(new Error(`closed ${e.code} ${e.reason}`)), { once: true });
    });
    return s;
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or future) matching `pred`. */
  next(pred: (f: any) => boolean, timeoutMs = 3000): Promise<any> {
    const have = this.frames.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  waitClose(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("socket not closed")), timeoutMs);
      this.closeWaiters.push((c) => (clearTimeout(timer), resolve(c)));
    });
  }

  close() {
    this.ws.close();
  }
}
