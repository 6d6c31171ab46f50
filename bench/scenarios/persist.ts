/**
 * Scenario 2, persistence: how many messages per second reach PostgreSQL
 * through the outbox, against the raw limit of batched inserts on the same
 * machine. First the raw limit: postgres.js multi-row INSERTs (500 rows, one
 * connection, the persister's batch size) of the same rows into a copy of the
 * `messages` table with its indexes. Then the bench appends messages through
 * Huddle's own Redis write path (engine.chat.append: seq, recent list, XADD
 * chat:persist, PUBLISH) at a fraction of that limit, while one Huddle
 * instance's persister drains the stream; it samples the backlog (XLEN) and
 * the rows in `messages`.
 */
import postgres from "postgres";
import Redis from "ioredis";
import { createEngine } from "../../src/engine";
import type { Engine } from "../../src/engine/types";
import { createRooms, huddleEnv, seedUsers, type BenchUser } from "../lib/huddle";
import { startHuddle } from "../lib/procs";
import { row, type Ctx, type ScenarioResult } from "../lib/report";
import { fmt } from "../lib/stats";
import { cpuMeter } from "../lib/sys";

const BATCH = 500;
/** The outbox is 16 streams `chat:persist:{persist-<n>}` (plus the legacy `chat:persist` of older versions): the backlog is their sum. */
const OUTBOX_STREAMS = [...Array.from({ length: 16 }, (_, i) => `chat:persist:{persist-${i}}`), "chat:persist"];
const backlog = async (redis: Redis) => {
  const p = redis.pipeline();
  for (const k of OUTBOX_STREAMS) p.xlen(k);
  return ((await p.exec()) ?? []).reduce((n, [err, len]) => n + (err ? 0 : Number(len)), 0);
};
const CONTENT = "a message of about sixty characters, like the chat benchmark";

type Room = { id: string; members: BenchUser[] };

async function rawInsertLimit(dbUrl: string, rooms: Room[], seconds: number) {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    await sql`drop table if exists bench_raw_messages`;
    await sql`create table bench_raw_messages (like messages including all)`;
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      const rows = Array.from({ length: BATCH }, (_, i) => {
        const room = rooms[(n + i) % rooms.length]!;
        return {
          id: Bun.randomUUIDv7(), conversation_id: room.id, seq: n + i + 1, sender_id: room.members[(n + i) % room.members.length]!.id,
          receiver_id: null, content: CONTENT, message_type: "text", client_id: null, timestamp: new Date(),
        };
      });
      await sql`insert into bench_raw_messages ${sql(rows)}`;
      n += BATCH;
    }
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await sql`drop table if exists bench_raw_messages`.catch(() => {});
    await sql.end({ timeout: 1 });
  }
}

/** Open-loop appends at `rate`/s for `seconds` through Huddle's Lua write path, at most 5000 in flight. */
async function appendAt(engine: Engine, rooms: Room[], rate: number, seconds: number) {
  let sent = 0;
  let failed = 0;
  let inFlight = 0;
  let skipped = 0;
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  while (sent + skipped < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    for (; sent + skipped < due; ) {
      if (inFlight >= 5000) {
        skipped++;
        continue;
      }
      const room = rooms[sent % rooms.length]!;
      const sender = room.members[sent % room.members.length]!;
      inFlight++;
      sent++;
      engine.chat.append({
        id: Bun.randomUUIDv7(), conversation_id: room.id, sender_id: sender.id, receiver_id: null, content: CONTENT,
        message_type: "text", client_id: null, timestamp: new Date().toISOString(),
      }).catch(() => failed++).finally(() => inFlight--);
    }
    await Bun.sleep(2);
  }
  while (inFlight > 0) await Bun.sleep(5);
  return { appended: sent - failed, failed, skipped, appendPerSec: (sent - failed) / ((performance.now() - t0) / 1000) };
}

export async function persistScenario(ctx: Ctx): Promise<ScenarioResult> {
  const redis = new Redis(ctx.redis.url);
  await redis.flushall();
  const server = await startHuddle("huddle-persist", { ...huddleEnv({ WORKER_CONCURRENCY: "0" }), DATABASE_URL: ctx.db.url, REDIS_URL: ctx.redis.url });
  const engine = await createEngine({ redisUrl: ctx.redis.url });
  const sql = postgres(ctx.db.url, { max: 1, onnotice: () => {} });
  try {
    const users = await seedUsers(ctx.db.url, 100, "persist");
    const ids = await createRooms(server.base, users, 10);
    const rooms = ids.map((id, i) => ({ id, members: users.slice(i * 10, i * 10 + 10) }));
    for (const r of rooms) await engine.chat.seedSeq(r.id, 0);
    const seconds = ctx.full ? 10 : 3;
    ctx.log(`persist: raw batched-insert limit (${seconds} s)`);
    const raw = await rawInsertLimit(ctx.db.url, rooms, seconds);
    ctx.log(`persist: raw limit ${Math.round(raw)} rows/s`);
    const count = async () => Number((await sql`select count(*)::int as n from messages`)[0]!.n);
    const fractions = ctx.full ? [0.1, 0.25, 0.5, 0.75, 1] : [0.25, 0.5];
    const steps = [];
    for (const f of fractions) {
      const rate = Math.round(raw * f);
      const c0 = await count();
      let maxBacklog = 0;
      const sampler = setInterval(async () => (maxBacklog = Math.max(maxBacklog, await backlog(redis).catch(() => 0))), 100);
      const meter = cpuMeter({ server: server.child.pid, redis: ctx.redis.child.pid, appender: process.pid });
      const t0 = performance.now();
      const a = await appendAt(engine, rooms, rate, seconds);
      const window = (performance.now() - t0) / 1000;
      const backlogAtEnd = await backlog(redis);
      const persistedInWindow = (await count()) - c0;
      const cpu = meter();
      clearInterval(sampler);
      const d0 = performance.now();
      while (await backlog(redis) > 0 && performance.now() - d0 < 60_000) await Bun.sleep(50);
      const drainMs = performance.now() - d0;
      const persisted = (await count()) - c0;
      // Kept up: the send rate was reached and the backlog stayed bounded (under half a second of sends at the end).
      const keptUp = a.appendPerSec >= rate * 0.95 && backlogAtEnd <= rate * 0.5;
      const step = { fraction: f, rate, ...a, persistedPerSec: persistedInWindow / window, backlogAtEnd, maxBacklog, drainMs, persisted, keptUp, cpu };
      steps.push(step);
      ctx.log(`persist: ${f * 100}% (${rate}/s) -> appended ${Math.round(a.appendPerSec)}/s, persisted ${Math.round(step.persistedPerSec)}/s, backlog max ${maxBacklog} end ${backlogAtEnd}, drain ${Math.round(drainMs)} ms, cpu ${JSON.stringify(cpu)}`);
      if (persisted !== a.appended) ctx.log(`persist: WARNING ${a.appended} appended but ${persisted} rows written`);
    }
    const sc = "persistence (outbox → PostgreSQL, 1 instance)";
    const best = steps.filter((s) => s.keptUp).sort((a, b) => b.rate - a.rate)[0];
    const half = steps.find((s) => s.fraction === 0.5);
    const rows = [
      row(sc, "raw batched INSERT limit (500 rows, 1 connection), rows/s", "", fmt(raw)),
      row(sc, "highest sustained rate that kept up, msgs/s", fmt(best?.persistedPerSec), `${fmt(best?.rate)} offered`, `${fmt(best ? (best.rate / raw) * 100 : NaN)} % of raw`, "≥ 50 % of raw", best && best.fraction >= 0.5 ? "met" : "missed"),
      ...(half ? [row(sc, `at 50 % of raw (${fmt(half.rate)}/s): persisted/s, backlog max/end`, fmt(half.persistedPerSec), `${half.maxBacklog} / ${half.backlogAtEnd}`)] : []),
    ];
    const notes = steps.filter((s) => s.appendPerSec < s.rate * 0.95).map((s) => `at ${s.rate}/s the appender (this process, Huddle's Lua append over one connection) reached only ${Math.round(s.appendPerSec)}/s.`);
    return { name: "persist", rows, notes, raw: { rawInsertRowsPerSec: raw, steps } };
  } finally {
    await sql.end({ timeout: 1 });
    await engine.close();
    redis.disconnect();
    await server.child.stop();
  }
}
