/**
 * Scenario: scale-out on Redis Cluster. The Redis side of chat sends
 * (append script + outbox entry, no HTTP) from two generator processes,
 * against the bench's single Redis and then a 3-master Redis Cluster started
 * on the same machine (test/helpers/redis-cluster.ts). Reports appends/s,
 * the Redis processes' CPU and CPU per append. On a 2-core machine both
 * Redis setups share the cores with the generators, so the ratio says where
 * the bottleneck moves rather than what 3 machines would give.
 */
import { spawnChild } from "../lib/procs";
import { row, type Ctx, type ScenarioResult } from "../lib/report";
import { cpuMeter } from "../lib/sys";
import { startTestCluster } from "../../test/helpers/redis-cluster";

const GENERATORS = 2;

async function measure(ctx: Ctx, target: { redisUrl?: string; clusterNodes?: string }, redisPids: number[], seconds: number) {
  const meter = cpuMeter(Object.fromEntries(redisPids.map((pid, i) => [`redis${i}`, pid])));
  const gens = Array.from({ length: GENERATORS }, (_, g) =>
    spawnChild(`scaleout-gen-${g}`, ["bun", "bench/scenarios/scaleout-gen.ts", JSON.stringify({ ...target, concurrency: 32, conversations: 1000, seconds, seed: g })], { ownStdout: true }));
  const outputs = await Promise.all(gens.map(async (c) => {
    const text = await new Response(c.proc.stdout as ReadableStream).text();
    await c.proc.exited;
    await c.stop();
    const line = text.trim().split("\n").pop() ?? "";
    try {
      return JSON.parse(line) as { appends: number; seconds: number; cpuPct: number };
    } catch {
      throw new Error(`scale-out generator: no result:\n${text}\n${c.output()}`);
    }
  }));
  const cpu = meter();
  const appends = outputs.reduce((a, o) => a + o.appends, 0);
  const rate = appends / Math.max(...outputs.map((o) => o.seconds));
  const redisPct = redisPids.reduce((a, _, i) => a + (cpu[`redis${i}`] ?? 0), 0);
  const genPct = outputs.reduce((a, o) => a + o.cpuPct, 0);
  const usPerAppend = ((redisPct + genPct) / 100 / rate) * 1e6;
  ctx.log(`scale-out ${target.clusterNodes ? "cluster" : "single"}: ${Math.round(rate)} appends/s, redis ${redisPct} %, generators ${genPct} %, others ${cpu.others} %`);
  return { rate, redisPct, genPct, usPerAppend, others: cpu.others };
}

export async function scaleoutScenario(ctx: Ctx): Promise<ScenarioResult> {
  const seconds = ctx.full ? 10 : 4;
  const single = await measure(ctx, { redisUrl: ctx.redis.url }, [ctx.redis.child.pid], seconds);
  const cluster = await startTestCluster({ masters: 3 });
  let multi: Awaited<ReturnType<typeof measure>>;
  try {
    multi = await measure(ctx, { clusterNodes: cluster.nodes }, cluster.pids, seconds);
  } finally {
    await cluster.stop();
  }
  const s = "scale-out (chat appends, 2 processes × 32 loops, no HTTP)";
  const f = (n: number) => Math.round(n).toLocaleString("en-US");
  return {
    name: "scaleout",
    rows: [
      row(s, "appends/s: 1 Redis vs 3-master cluster (same machine)", f(multi.rate), `${f(single.rate)} (1 Redis)`, `${(multi.rate / single.rate).toFixed(2)}×`),
      row(s, "Redis CPU, % of one core: 1 Redis vs cluster (sum of masters)", String(multi.redisPct), String(single.redisPct)),
      row(s, "CPU-µs per append (Redis + generators)", f(multi.usPerAppend), f(single.usPerAppend), `${(multi.usPerAppend / single.usPerAppend).toFixed(2)}×`),
    ],
    raw: { single, cluster: multi, seconds },
    notes: [
      "On a cluster a send is three calls (rate limit in the user's slot, append script in the conversation's slot, outbox XADD in the shard's slot) instead of one script: more client CPU per message; the gain comes from Redis work spread over masters (cores).",
    ],
  };
}
