/**
 * The hot store as operators watch it (seed 002: Redis memory and the Redis ->
 * PostgreSQL sync), read at scrape time: the outbox backlog and the age of its
 * oldest unpersisted message (over every outbox shard: the Outbox port sums
 * them), Redis' used and maximum memory (over every master on a cluster). And the /ready
 * check that warns (without failing) when Redis may evict or lose acknowledged
 * messages in production.
 */
import { Gauge } from "prom-client";
import type { Engine } from "../engine/types";
import { registry } from "./metrics";

const pending = new Gauge({ name: "huddle_outbox_pending", help: "Messages acknowledged to senders and not yet in PostgreSQL", registers: [registry] });
const oldest = new Gauge({ name: "huddle_outbox_oldest_age_seconds", help: "Age of the oldest message not yet in PostgreSQL (0 when none)", registers: [registry] });
const dead = new Gauge({ name: "huddle_outbox_dead_letters", help: "Messages PostgreSQL refused, kept in chat:persist:dead for `huddle outbox replay`", registers: [registry] });
const used = new Gauge({ name: "huddle_redis_used_memory_bytes", help: "Redis used_memory", registers: [registry] });
const max = new Gauge({ name: "huddle_redis_maxmemory_bytes", help: "Redis maxmemory (0: no limit)", registers: [registry] });

let source: Engine | null = null;
/** One read of the store per scrape, shared by the gauges (prom-client collects them concurrently). */
let last: { at: number; sample: Promise<void> } | null = null;

/** Points the gauges at this process's engine (the last call wins: one engine per process). */
export function exposeStoreMetrics(engine: Engine) {
  source = engine;
  last = null; // a sample of the previous engine (an earlier runtime in this process) must not be served for this one
}

function sample(): Promise<void> {
  if (last && Date.now() - last.at < 500) return last.sample;
  const engine = source;
  const run = (async () => {
    if (!engine) return;
    try {
      const [n, age, letters, info] = await Promise.all([engine.outbox.pending(), engine.outbox.oldestAgeMs(Date.now()), engine.deadLetters.count(), engine.info()]);
      pending.set(n);
      dead.set(letters);
      oldest.set((age ?? 0) / 1000);
      if (info.used_memory !== undefined) used.set(info.used_memory);
      if (info.maxmemory !== undefined) max.set(info.maxmemory);
    } catch {
      // Redis down: keep the last sample; /ready says so.
    }
  })();
  last = { at: Date.now(), sample: run };
  return run;
}
for (const g of [pending, oldest, dead, used, max]) (g as unknown as { collect: () => Promise<void> }).collect = sample;

/** Warnings for a Redis that can drop acknowledged messages: evictions, or no persistence at all. */
export function storeWarnings(info: Awaited<ReturnType<Engine["info"]>>): string[] {
  const warnings: string[] = [];
  if (info.maxmemory_policy !== undefined && info.maxmemory_policy !== "noeviction") {
    warnings.push(`maxmemory-policy is ${info.maxmemory_policy}: Redis may evict unpersisted messages or jobs; use noeviction`);
  }
  if (info.aof_enabled === false && info.rdb_enabled === false) {
    warnings.push("Redis persistence is off: a Redis restart loses messages not yet in PostgreSQL; enable appendonly");
  }
  return warnings;
}
