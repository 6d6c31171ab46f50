/**
 * Fan-out micro-benchmark (not part of `bun run bench`): CPU of one Bun.serve
 * process per event delivered to N local sockets, one JS `send` per socket
 * (how Huddle delivered before) against the native fan-out (one topic
 * publish, src/modules/chat/fanout.ts). The readers run in another process.
 * BATCH events are delivered per event-loop turn: uWS coalesces a turn's
 * publishes into one write per socket, a JS send writes at once.
 *
 *   bun bench/fanout-micro.ts [--sockets=50] [--events=20000] [--batch=100]
 */
import { parseArgs } from "node:util";
import { Connection } from "../src/modules/chat/connection";
import { NativeFanOut } from "../src/modules/chat/fanout";

const { values } = parseArgs({ options: { sockets: { type: "string" }, events: { type: "string" }, batch: { type: "string" } } });
const N = Number(values.sockets ?? 50), EVENTS = Number(values.events ?? 20_000), BATCH = Number(values.batch ?? 100);

async function run(strategy: "send" | "publish") {
  const followers = new Map<string, Connection>();
  let opened!: () => void;
  const allOpen = new Promise<void>((r) => (opened = r));
  const fan = new NativeFanOut();
  const perSocket = { deliver: (_c: string, payload: string, fs: Map<string, Connection>) => { for (const f of fs.values()) f.sendRaw(payload); } };
  let next = 0;
  const server = Bun.serve({
    port: 0, hostname: "127.0.0.1",
    fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("upgrade", { status: 426 })),
    websocket: {
      backpressureLimit: 4 << 20, closeOnBackpressureLimit: true,
      open(ws) {
        const c = new Connection(String(++next), `u${next}`, ws, 1 << 20);
        c.follow("conv");
        followers.set(c.id, c);
        if (followers.size === N) opened();
      },
      message() {},
    },
  });
  fan.bind(server);
  const total = N * EVENTS;
  const readers = Bun.spawn(["bun", "-e", `let got = 0; for (let i = 0; i < ${N}; i++) new WebSocket("ws://127.0.0.1:${server.port}/").onmessage = () => { if (++got === ${total}) { console.log("done"); process.exit(0); } }; setInterval(() => {}, 1000);`], { stdout: "pipe" });
  await allOpen;
  const payloads = Array.from({ length: EVENTS }, (_, i) => JSON.stringify({ type: "message", message: { id: Bun.randomUUIDv7(), conversation_id: "conv", seq: i + 1, sender_id: Bun.randomUUIDv7(), content: "a chat message of a usual length, a sentence or so", created_at: new Date().toISOString() } }));
  const deliver = strategy === "publish" ? fan : perSocket;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i += BATCH) {
    for (let j = i; j < Math.min(EVENTS, i + BATCH); j++) deliver.deliver("conv", payloads[j]!, followers);
    await new Promise((r) => setImmediate(r));
  }
  await new Response(readers.stdout).text();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  server.stop(true);
  return { strategy, sockets: N, events: EVENTS, batch: BATCH, cpuUsPerEvent: +((cpu.user + cpu.system) / EVENTS).toFixed(1), eventsPerSec: Math.round(EVENTS / (wallMs / 1000)) };
}

for (const s of ["send", "publish", "send", "publish"] as const) console.log(JSON.stringify(await run(s)));
