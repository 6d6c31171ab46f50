/**
 * Scenario 4, the machine's limits, so Huddle's figures can be read as a
 * fraction of what the hardware does: redis-benchmark on the bench Redis for
 * the commands Huddle's hot paths use (one at a time and pipelined by 16, 50
 * clients), and a raw Bun.serve WebSocket echo (closed loop, 200 clients,
 * generator in its own process). The raw Bun.serve *broadcast* runs inside
 * the chat ramp, as its third target.
 */
import { startGenerator } from "../lib/generator";
import { startPeer } from "../lib/procs";
import { row, type Ctx, type ScenarioResult } from "../lib/report";
import { fmt } from "../lib/stats";
import { cpuMeter } from "../lib/sys";

/** What each stands for in Huddle: rate limit + append are scripts, the outbox a stream, delivery Pub/Sub, the queue lists. */
const COMMANDS: [name: string, args: string[]][] = [
  ["PING", ["PING"]],
  ["INCR", ["INCR", "bench:k"]],
  ["LPUSH", ["LPUSH", "bench:l", "v"]],
  ["XADD", ["XADD", "bench:s", "MAXLEN", "~", "100000", "*", "f", "v"]],
  ["PUBLISH", ["PUBLISH", "bench:ch", "a-sixty-byte-payload-like-a-small-chat-message-frame-000000"]],
  ["EVAL", ["EVAL", "return redis.call('INCR', KEYS[1])", "1", "bench:e"]],
];

function redisBenchmark(port: number, args: string[], pipeline: number, n: number): { rps: number; p99: number } {
  const p = Bun.spawnSync(["redis-benchmark", "-h", "127.0.0.1", "-p", String(port), "-c", "50", "-n", String(n), "-P", String(pipeline), "--csv", ...args], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  const lines = p.stdout.toString().trim().split("\n");
  // The test name may itself hold commas (an EVAL script): count the numeric columns from the end.
  const last = (lines[lines.length - 1]?.split(",") ?? []).map((c) => c.replaceAll('"', "")).slice(-7);
  const rps = Number(last[0]);
  if (!Number.isFinite(rps)) throw new Error(`redis-benchmark ${args.join(" ")}: ${p.stdout} ${p.stderr}`);
  return { rps, p99: Number(last[5]) };
}

export async function limitsScenario(ctx: Ctx): Promise<ScenarioResult> {
  if (Bun.spawnSync(["which", "redis-benchmark"]).exitCode !== 0) throw new Error("redis-benchmark not found (apt-get install redis-tools)");
  const rows = [];
  const redisRaw: Record<string, unknown> = {};
  const n = ctx.full ? 200_000 : 30_000;
  for (const [name, args] of COMMANDS) {
    const single = redisBenchmark(ctx.redis.port, args, 1, n);
    const piped = redisBenchmark(ctx.redis.port, args, 16, n * 4);
    ctx.limits[`redis ${name} P1`] = single.rps;
    ctx.limits[`redis ${name} P16`] = piped.rps;
    redisRaw[name] = { single, piped };
    rows.push(row("machine limits", `redis-benchmark ${name}, ops/s, 50 clients: single / pipelined ×16`, "", `${fmt(single.rps)} / ${fmt(piped.rps)}`));
    ctx.log(`limits: redis ${name} ${Math.round(single.rps)}/s single, ${Math.round(piped.rps)}/s pipelined`);
  }
  const server = await startPeer("raw-ws", "bench/peers/raw-ws.ts", {});
  const clients = Array.from({ length: 200 }, (_, i) => ({ url: server.ws, room: `room-${i % 20}`, inst: 0 }));
  const gen = await startGenerator("gen-echo", "raw", clients, 10);
  try {
    const meter = cpuMeter({ server: server.child.pid, generator: gen.child.pid });
    const echo = await gen.ask<{ roundTripsPerSec: number; rtt: { p50: number; p99: number } }>({ cmd: "echo", measureMs: ctx.full ? 5000 : 2000 });
    const cpu = meter();
    ctx.limits["ws echo"] = echo.roundTripsPerSec;
    rows.push(row("machine limits", "raw Bun.serve WebSocket echo, round trips/s (200 clients, closed loop) · p50/p99 ms", "", `${fmt(echo.roundTripsPerSec)} · ${fmt(echo.rtt.p50)}/${fmt(echo.rtt.p99)}`));
    ctx.log(`limits: ws echo ${Math.round(echo.roundTripsPerSec)} round trips/s, cpu ${JSON.stringify(cpu)}`);
    return { name: "limits", rows, notes: [], raw: { redis: redisRaw, wsEcho: { ...echo, cpu } } };
  } finally {
    await gen.quit();
    await server.child.stop();
  }
}
