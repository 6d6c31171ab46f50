/**
 * Load generator, run as its own process (`bun bench/scenarios/chat-load.ts`)
 * so it does not share an event loop with what it measures. It reads JSON
 * lines on stdin: first the config (target + clients), then commands; it
 * answers each with one JSON line on stdout.
 *
 *   {"cmd":"step","rate":R,"warmupMs":W,"measureMs":M,"drainMs":D}
 *     Open loop: message j is due at t0 + j/R, sent by client j mod N, and
 *     stamped with its *due* time, so a generator or server that falls behind
 *     shows up as latency instead of silently lowering the rate. Only messages
 *     due inside the measure window count.
 *   {"cmd":"echo","measureMs":M}   raw target: closed-loop echo round trips
 *   {"cmd":"quit"}
 */
import { connect, contentOf, parseContent, type ChatClient, type ClientSpec, type Target } from "../lib/clients";
import { Recorder } from "../lib/stats";

type Config = { target: Target; clients: ClientSpec[]; roomSize: number; connectConcurrency?: number };
type Cmd = { cmd: "step"; rate: number; warmupMs: number; measureMs: number; drainMs: number } | { cmd: "echo"; measureMs: number } | { cmd: "quit" };

const out = (v: unknown) => process.stdout.write(JSON.stringify(v) + "\n");

let win = { from: Infinity, to: -Infinity };
const lat = new Recorder();
const cross = new Recorder();
const acks = new Recorder();
let delivered = 0;
let errors: Record<string, number> = {};
let closedCount = 0;
let lastFrameAt = 0;
let echoRtt: Recorder | null = null;

function handlersFor(inst: number, client: () => ChatClient) {
  return {
    deliver(content: string) {
      const now = performance.now();
      lastFrameAt = now;
      const { t, inst: from } = parseContent(content);
      if (t < win.from || t >= win.to) return;
      delivered++;
      lat.add(now - t);
      if (from !== inst) cross.add(now - t);
    },
    ack(content: string) {
      const now = performance.now();
      lastFrameAt = now;
      const { t } = parseContent(content);
      if (echoRtt) {
        echoRtt.add(now - t);
        client().echo!(contentOf(performance.now(), inst));
        return;
      }
      if (t >= win.from && t < win.to) acks.add(now - t);
    },
    error(code: string) {
      errors[code] = (errors[code] ?? 0) + 1;
    },
    closed() {
      closedCount++;
    },
  };
}

async function connectAll(cfg: Config): Promise<ChatClient[]> {
  const clients: ChatClient[] = new Array(cfg.clients.length);
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < cfg.clients.length) {
      const i = next++;
      const spec = cfg.clients[i]!;
      const c = connect(cfg.target, spec, handlersFor(spec.inst, () => c), i);
      clients[i] = c;
      await c.ready.catch(() => failed++);
    }
  };
  await Promise.all(Array.from({ length: cfg.connectConcurrency ?? 50 }, worker));
  if (failed) throw new Error(`${failed} of ${cfg.clients.length} clients failed to connect`);
  return clients;
}

async function step(clients: ChatClient[], cfg: Config, c: Extract<Cmd, { cmd: "step" }>) {
  lat.reset(); cross.reset(); acks.reset();
  delivered = 0;
  errors = {};
  const n = clients.length;
  const t0 = performance.now() + 20;
  const total = Math.round((c.rate * (c.warmupMs + c.measureMs)) / 1000);
  win = { from: t0 + c.warmupMs, to: t0 + c.warmupMs + c.measureMs };
  let sent = 0;
  let inWindow = 0;
  let maxLag = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) * c.rate) / 1000) + 1);
      if (due > sent) maxLag = Math.max(maxLag, now - (t0 + (sent * 1000) / c.rate));
      for (; sent < due; sent++) {
        // Rounded as the content carries it, so sender and receivers agree on the window.
        const t = Math.round((t0 + (sent * 1000) / c.rate) * 1000) / 1000;
        if (t >= win.from && t < win.to) inWindow++;
        clients[sent % n]!.send(contentOf(t, cfg.clients[sent % n]!.inst));
      }
      if (sent >= total) return resolve();
      setTimeout(tick, 1);
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
  const expected = inWindow * (cfg.roomSize - 1);
  const drainUntil = performance.now() + c.drainMs;
  while (delivered < expected && performance.now() < drainUntil) await Bun.sleep(20);
  const drained = delivered >= expected;
  // Let stragglers of this step arrive before the next one starts.
  lastFrameAt = performance.now();
  while (performance.now() - lastFrameAt < 300 && performance.now() < drainUntil + 5000) await Bun.sleep(50);
  return {
    rate: c.rate, sent: inWindow, expected, delivered, drained, lost: Math.max(0, expected - delivered),
    deliveredPerSec: delivered / (c.measureMs / 1000), sentPerSec: inWindow / (c.measureMs / 1000),
    latency: lat.summary(), cross: cross.summary(), ack: acks.summary(), maxGeneratorLagMs: maxLag,
    errors, closed: closedCount,
  };
}

async function echo(clients: ChatClient[], cfg: Config, measureMs: number) {
  echoRtt = new Recorder();
  const t0 = performance.now();
  clients.forEach((c, i) => c.echo!(contentOf(performance.now(), cfg.clients[i]!.inst)));
  await Bun.sleep(measureMs);
  const s = echoRtt.summary();
  echoRtt = null;
  await Bun.sleep(200);
  return { roundTripsPerSec: s.n / ((performance.now() - 200 - t0) / 1000), rtt: s, clients: clients.length };
}

async function main() {
  let cfg: Config | null = null;
  let clients: ChatClient[] = [];
  for await (const line of console) {
    if (!line.trim()) continue;
    if (!cfg) {
      cfg = JSON.parse(line) as Config;
      const t = performance.now();
      clients = await connectAll(cfg);
      out({ ready: true, clients: clients.length, connectMs: performance.now() - t });
      continue;
    }
    const c = JSON.parse(line) as Cmd;
    if (c.cmd === "quit") break;
    out(c.cmd === "step" ? await step(clients, cfg, c) : await echo(clients, cfg, c.measureMs));
  }
  for (const c of clients) c.close();
  await Bun.sleep(100);
  process.exit(0);
}

main().catch((err) => {
  out({ error: String((err as Error).stack ?? err) });
  process.exit(1);
});
