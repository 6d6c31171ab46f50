/**
 * One generator process of the scale-out scenario: `concurrency` closed
 * loops appending chat messages (the Redis side of a send: the append script
 * and the outbox entry) over `conversations` conversations for `seconds`,
 * through the engine on a single Redis or a Redis Cluster. Prints one JSON
 * line {appends, cpuPct}. Run by scaleout.ts.
 */
import { createEngine } from "../../src/engine";

type Opts = { redisUrl?: string; clusterNodes?: string; concurrency: number; conversations: number; seconds: number; seed: number };
const o = JSON.parse(process.argv[2]!) as Opts;
const engine = await createEngine({ redisUrl: o.redisUrl, redisClusterNodes: o.clusterNodes });
const conversations = Array.from({ length: o.conversations }, (_, i) => `0190${String(o.seed).padStart(4, "0")}-0000-7000-8000-${String(i).padStart(12, "0")}`);
await Promise.all(conversations.map((c) => engine.chat.seedSeq(c, 0)));
const sender = Bun.randomUUIDv7();
let appends = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const until = t0 + o.seconds * 1000;
await Promise.all(Array.from({ length: o.concurrency }, async (_, w) => {
  for (let i = w; performance.now() < until; i += o.concurrency) {
    const c = conversations[i % conversations.length]!;
    await engine.chat.append({ id: Bun.randomUUIDv7(), conversation_id: c, sender_id: sender, receiver_id: null, content: "x".repeat(60), message_type: "text", client_id: null, timestamp: new Date().toISOString() });
    appends++;
  }
}));
const secs = (performance.now() - t0) / 1000;
const used = process.cpuUsage(cpu0);
console.log(JSON.stringify({ appends, seconds: secs, cpuPct: Math.round(((used.user + used.system) / 1e6 / secs) * 100) }));
await engine.close();
process.exit(0);
