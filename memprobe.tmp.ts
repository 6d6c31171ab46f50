// In-process memory probe: server here, clients in a child process.
import { heapStats } from "bun:jsc";
const main = process.env.PROBE_ROOT ?? "./src";
const { loadConfig } = await import(`${main}/config.ts`);
const { startServer } = await import(`${main}/server.ts`);
const N = Number(process.env.N ?? 2000);
const config = loadConfig({ ...process.env, NODE_ENV: "production", LOG_LEVEL: "warn", JWT_SECRET: "x".repeat(40), PORT: "0", HOST: "127.0.0.1", RATE_LIMIT_SCALE: "1000000", MAX_SOCKETS_PER_USER: "1000", WORKER_CONCURRENCY: "0", FILE_WORKER_CONCURRENCY: "0" });
const srv = await startServer(config, { installSignals: false });
const base = `http://127.0.0.1:${srv.port}`;
const { registerUsers, createRooms } = await import("/work/wt-fanout/bench/lib/huddle.ts");
const users = await registerUsers(base, Math.ceil(N / 500));
await createRooms(base, users, users.length);
const tokens = users.map((u: { token: string }) => u.token);
const snap = (label: string) => {
  const h = heapStats();
  const top = Object.entries(h.objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 25);
  return { label, rssKB: Math.round(process.memoryUsage().rss / 1024), heapKB: Math.round(h.heapSize / 1024), extraKB: Math.round(h.extraMemorySize / 1024), objects: h.objectCount, top };
};
const client = (n: number) => Bun.spawn(["bun", "/tmp/fx/clients.ts"], { env: { ...process.env, URL: `ws://127.0.0.1:${srv.port}/chat/subscribe`, TOKENS: tokens.join(","), N: String(n) }, stdout: "pipe", stderr: "inherit" });
async function run(n: number) {
  const c = client(n);
  const reader = c.stdout.getReader();
  let text = "";
  while (!text.includes("ready")) { const { value, done } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); }
  return c;
}
const warm = await run(200); warm.kill(); await warm.exited; await Bun.sleep(1000);
Bun.gc(true); await Bun.sleep(500); Bun.gc(true);
const before = snap("before");
const c = await run(N);
await Bun.sleep(3000);
const afterNoGc = snap("after-nogc");
Bun.gc(true); await Bun.sleep(500); Bun.gc(true);
const after = snap("after-gc");
const per = (a: any, b: any, k: string) => ((a[k] - b[k]) / N).toFixed(2);
console.log(JSON.stringify({ N, rssPerSocketNoGcKB: per(afterNoGc, before, "rssKB"), rssPerSocketGcKB: per(after, before, "rssKB"), heapPerSocketKB: per(after, before, "heapKB"), extraPerSocketKB: per(after, before, "extraKB"), objectsPerSocket: per(after, before, "objects") }));
const diff: Record<string, number> = {};
const bm = Object.fromEntries(before.top); 
for (const [k, v] of after.top) diff[k] = +((v - (bm[k] ?? 0)) / N).toFixed(2);
console.log(JSON.stringify(diff));
c.kill(); await srv.stop(); process.exit(0);
