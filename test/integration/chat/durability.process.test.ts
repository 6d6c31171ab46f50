/**
 * SIGKILL the server in the middle of a send burst and restart it: every
 * message that got a 201 is in PostgreSQL exactly once, and the stored seqs
 * have no holes and no duplicates.
 */
import { afterAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import postgres from "postgres";
import { createTestDatabase, postgresAvailable, redisAvailable, redisDbUrl } from "../../helpers/services";
import { json, registerOver, spawnServer, type ServerProcess } from "../../helpers/process";

const ok = (await redisAvailable()) && (await postgresAvailable());

describe.skipIf(!ok)("durability across SIGKILL", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("every acknowledged message reaches PostgreSQL exactly once", async () => {
    const db = await createTestDatabase("dur");
    cleanup.push(db.drop);
    const redisUrl = redisDbUrl(6);
    const r = new Redis(redisUrl);
    await r.flushdb();
    cleanup.push(async () => r.disconnect());
    const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl, PERSIST_RECLAIM_MS: "1000", RATE_LIMIT_SCALE: "1000", WORKER_CONCURRENCY: "0" };
    let server: ServerProcess = await spawnServer(env);
    cleanup.push(() => server.kill());

    const a = await registerOver(server.base);
    const b = await registerOver(server.base);
    const acked = new Map<string, number>();
    let stop = false;
    const sender = async (who: typeof a, to: string, tag: string) => {
      for (let i = 0; !stop && i < 5000; i++) {
        try {
          const res = await json(server.base, "POST", "/chat/send", { to, content: `${tag}-${i}`, client_id: `${tag}-${i}` }, who.access_token);
          if (res.status === 201) acked.set(res.json.message.id, res.json.message.seq);
        } catch {
          return; // connection refused: the server is gone
        }
      }
    };
    const senders = [
      ...Array.from({ length: 4 }, (_, k) => sender(a, b.user.id, `a${k}`)),
      ...Array.from({ length: 4 }, (_, k) => sender(b, a.user.id, `b${k}`)),
    ];
    await Bun.sleep(1500);
    await server.kill("SIGKILL");
    stop = true;
    await Promise.all(senders);
    expect(acked.size).toBeGreaterThan(50);

    server = await spawnServer(env);
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));
    let rows: { id: string; seq: string }[] = [];
    for (let i = 0; i < 100; i++) {
      rows = await sql`select id, seq from messages order by seq`;
      const have = new Set(rows.map((x) => x.id));
      if ([...acked.keys()].every((id) => have.has(id))) break;
      await Bun.sleep(100);
    }
    const ids = rows.map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    const missing = [...acked.keys()].filter((id) => !ids.includes(id));
    expect(missing).toEqual([]);
    const seqs = rows.map((x) => Number(x.seq));
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    console.log(`durability: ${acked.size} acknowledged before SIGKILL, ${rows.length} in PostgreSQL after restart`);
    // Sending resumes with the next seq after the restart.
    const next = await json(server.base, "POST", "/chat/send", { to: b.user.id, content: "after restart" }, a.access_token);
    expect(next.status).toBe(201);
    expect(next.json.message.seq).toBe(seqs.length + 1);
  }, 60_000);
});
