// Fan-out micro-benchmark: CPU of this (server) process per delivered event, old per-socket sends vs native topic publish.
const which = process.env.WHICH ?? "new";
const N = Number(process.env.N ?? 50), EVENTS = Number(process.env.EVENTS ?? 20000);
const root = which === "new" ? "/work/wt-fanout/src" : "/work/wt-fanout-base/src";
const { Connection } = await import(`${root}/modules/chat/connection.ts`);
const fan = which === "new" ? new (await import(`${root}/modules/chat/fanout.ts`)).NativeFanOut() : (await import(`${root}/modules/chat/fanout.ts`)).socketFanOut;
const followers = new Map<string, any>();
let opened = 0, resolveOpen: () => void;
const allOpen = new Promise<void>((r) => (resolveOpen = r));
const server = Bun.serve({
  port: 0, hostname: "127.0.0.1",
  fetch(req, srv) { return srv.upgrade(req, { data: { id: String(++opened) } }) ? undefined : new Response("no", { status: 400 }); },
  websocket: {
    backpressureLimit: 4 << 20, closeOnBackpressureLimit: true,
    open(ws) { const c = new Connection(ws.data.id, `u${ws.data.id}`, ws, 1 << 20); if (c.follow) c.follow("conv"); followers.set(c.id, c); if (followers.size === N) resolveOpen(); },
    message() {}, close() {},
  },
});
if (which === "new") fan.bind(server);
const client = Bun.spawn(["bun", "-e", `
  const n = ${N}, total = ${N * EVENTS}; let got = 0;
  for (let i = 0; i < n; i++) { const ws = new WebSocket("ws://127.0.0.1:${server.port}/"); ws.onmessage = () => { if (++got === total) { console.log("all"); process.exit(0); } }; }
  setInterval(() => {}, 1000);
`], { stdout: "pipe" });
await allOpen;
const message = (seq: number) => JSON.stringify({ type: "message", message: { id: Bun.randomUUIDv7(), conversation_id: "conv", seq, sender_id: "someone-0000-0000-0000-000000000000", content: "hello there, this is a message of moderate length", created_at: new Date().toISOString(), kind: "text" } });
const payloads = Array.from({ length: EVENTS }, (_, i) => message(i + 1));
const c0 = process.cpuUsage(); const t0 = performance.now();
const B = Number(process.env.BATCH ?? 100);
for (let i = 0; i < EVENTS; i += B) {
  for (let j = i; j < i + B && j < EVENTS; j++) fan.deliver("conv", payloads[j]!, followers);
  await new Promise((r) => setImmediate(r));
}
const sendCpu = process.cpuUsage(c0);
await new Response(client.stdout).text();
const all = process.cpuUsage(c0); const ms = performance.now() - t0;
const closed = [...followers.values()].filter((c) => c.closed).length;
console.log(JSON.stringify({ which, N, EVENTS, cpuUsPerEvent: ((all.user + all.system) / EVENTS).toFixed(1), deliverLoopCpuUsPerEvent: ((sendCpu.user + sendCpu.system) / EVENTS).toFixed(1), wallMs: Math.round(ms), closed }));
server.stop(true); process.exit(0);
