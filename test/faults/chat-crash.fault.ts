/**
 * Fault 1: SIGKILL one of two instances in the middle of a chat load (50
 * senders over HTTP and WebSocket, retrying with the same client_id on the
 * surviving instance), then restart it. Every acknowledged message is in
 * PostgreSQL exactly once, seqs per conversation have no holes, and readers
 * that lost their socket resume on the restarted instance and end up with
 * every message exactly once, in order. Run twice: straight to PostgreSQL,
 * and through a transaction-mode PgBouncer (DATABASE_POOLER=transaction,
 * DATABASE_DIRECT_URL for migrations), the way managed PostgreSQL is used.
 */
import { afterAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import postgres from "postgres";
import { createTestDatabase, postgresAvailable, redisAvailable, redisDbUrl } from "../helpers/services";
import { json, registerOver, spawnServer, type ServerProcess } from "../helpers/process";
import { ChatReader, createRoom, waitFor } from "./lib";
import { pgbouncerAvailable, startPgBouncer } from "../helpers/pgbouncer";

const ok = (await redisAvailable()) && (await postgresAvailable());
const ROOMS = 10;
const SENDERS = 50;

type User = Awaited<ReturnType<typeof registerOver>>;

/** How the instances reach PostgreSQL: directly, or through a transaction-mode pooler started for the test. */
type Route = { name: string; database(directUrl: string, cleanup: (() => Promise<unknown>)[]): Promise<Record<string, string>> };
const DIRECT: Route = { name: "PostgreSQL directly", database: async (url) => ({ DATABASE_URL: url }) };
const POOLED: Route = {
  name: "PgBouncer, pool_mode = transaction",
  database: async (url, cleanup) => {
    const bouncer = await startPgBouncer();
    cleanup.push(() => bouncer.stop());
    return { DATABASE_URL: bouncer.urlFor(url), DATABASE_POOLER: "transaction", DATABASE_DIRECT_URL: url };
  },
};

// pgbouncerAvailable() prints SKIP (or throws under REQUIRE_SERVICES=1) when Debian's pgbouncer is missing.
for (const route of ok && pgbouncerAvailable() ? [DIRECT, POOLED] : [DIRECT]) chatCrash(route);

function chatCrash(route: Route) {
describe.skipIf(!ok)(`fault: an instance is SIGKILLed under chat load (${route.name})`, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("acknowledged messages survive exactly once; resumed readers miss nothing", async () => {
    const db = await createTestDatabase("fcrash");
    cleanup.push(db.drop);
    const redisUrl = redisDbUrl(15);
    const r = new Redis(redisUrl);
    await r.flushdb();
    cleanup.push(async () => r.disconnect());
    const env = { ...(await route.database(db.url, cleanup)), REDIS_URL: redisUrl, PERSIST_RECLAIM_MS: "1000", RATE_LIMIT_SCALE: "1000", WORKER_CONCURRENCY: "0" };
    const started = await Promise.all([spawnServer(env), spawnServer(env)]);
    // live[0] is replaced by the restarted instance; a dead slot is null.
    const live: (ServerProcess | null)[] = [...started];
    cleanup.push(() => Promise.all(started.map((s) => s.kill())));
    const alive = (prefer: number) => live[prefer] ?? live[1 - prefer] ?? live[1]!;

    const register = async (n: number, prefix: string) => {
      const out: User[] = [];
      for (let i = 0; i < n; i += 4) out.push(...(await Promise.all(Array.from({ length: Math.min(4, n - i) }, (_, k) => registerOver(started[(i + k) % 2]!.base, prefix)))));
      return out;
    };
    const senders = await register(SENDERS, "cs");
    const readers = await register(ROOMS, "cr");
    const rooms: string[] = [];
    for (let k = 0; k < ROOMS; k++) {
      const members = [readers[k]!.user.id, ...senders.filter((_, s) => s % ROOMS === k).map((u) => u.user.id)];
      rooms.push(await createRoom(started[0]!.base, readers[k]!.access_token, `load-${k}`, members.slice(1)));
    }

    // Readers: even rooms on instance 0 (the one that gets killed), odd rooms on instance 1.
    const chatReaders = readers.map((u, k) => new ChatReader(`reader${k}`, u.access_token, [rooms[k]!]));
    await Promise.all(chatReaders.map((cr, k) => cr.connect(started[k % 2]!.wsBase)));
    cleanup.push(async () => chatReaders.forEach((cr) => cr.close()));

    const acked = new Map<string, { seq: number; conversation: string }>();
    const refused: string[] = [];
    let stop = false;
    let retries = 0;

    const httpSender = async (s: number) => {
      const u = senders[s]!;
      let home = s % 2;
      for (let i = 0; !stop; i++) {
        const body = { conversation_id: rooms[s % ROOMS]!, content: `s${s}-${i}`, client_id: `s${s}-${i}` };
        for (let attempt = 0; ; attempt++) {
          const base = alive(home).base;
          try {
            const res = await json(base, "POST", "/chat/send", body, u.access_token);
            if (res.status === 201) {
              acked.set(res.json.message.id, { seq: res.json.message.seq, conversation: body.conversation_id });
              break;
            }
            refused.push(`${res.status} ${res.text.slice(0, 120)}`);
          } catch {
            home = 1 - home; // connection refused or reset: the instance is gone, retry on the other one
          }
          retries++;
          if (attempt > 50) throw new Error(`sender ${s} could not deliver ${body.client_id}`);
          await Bun.sleep(50);
        }
      }
    };

    const wsSender = async (s: number) => {
      const u = senders[s]!;
      let home = s % 2;
      let ws: WebSocket | null = null;
      const waiting = new Map<string, (f: any) => void>();
      const open = async () => {
        for (let attempt = 0; attempt < 100; attempt++) {
          const sock = new WebSocket(`${alive(home).wsBase}/chat/subscribe?token=${u.access_token}`);
          const ready = await new Promise<boolean>((resolve) => {
            sock.addEventListener("message", (e) => {
              const f = JSON.parse(String(e.data));
              if (f.type === "ready") resolve(true);
              const ref = f.type === "message" ? f.client_id : f.type === "error" ? f.ref : undefined;
              if (ref) waiting.get(ref)?.(f);
            });
            sock.addEventListener("close", () => {
              resolve(false);
              for (const w of waiting.values()) w(null);
            });
          });
          if (ready) return sock;
          home = 1 - home;
          await Bun.sleep(50);
        }
        throw new Error(`ws sender ${s} could not connect`);
      };
      ws = await open();
      for (let i = 0; !stop; i++) {
        const client_id = `s${s}-${i}`;
        const frame = { type: "send", conversation_id: rooms[s % ROOMS]!, content: `s${s}-${i}`, client_id };
        for (let attempt = 0; ; attempt++) {
          if (ws.readyState !== WebSocket.OPEN) ws = await open();
          const reply = new Promise<any>((resolve) => {
            waiting.set(client_id, resolve);
            setTimeout(() => resolve(null), 5000);
          });
          ws.send(JSON.stringify(frame));
          const f = await reply;
          waiting.delete(client_id);
          if (f?.type === "message") {
            acked.set(f.message.id, { seq: f.message.seq, conversation: frame.conversation_id });
            break;
          }
          if (f) refused.push(`ws ${f.status} ${f.message}`);
          retries++;
          if (attempt > 50) throw new Error(`ws sender ${s} could not deliver ${client_id}`);
          await Bun.sleep(50);
        }
      }
      ws.close();
    };

    const t0 = Date.now();
    const running = Array.from({ length: SENDERS }, (_, s) => (s < SENDERS / 2 ? httpSender(s) : wsSender(s)));
    await Bun.sleep(2500);
    const beforeKill = acked.size;
    await started[0]!.kill("SIGKILL");
    live[0] = null;
    const killedAt = Date.now() - t0;
    const restarted = await spawnServer(env);
    cleanup.push(() => restarted.kill());
    live[0] = restarted;
    const restartMs = Date.now() - t0 - killedAt;
    // Readers of the killed instance reconnect to the restarted one and resume.
    for (let k = 0; k < ROOMS; k += 2) await chatReaders[k]!.connect(restarted.wsBase);
    await Bun.sleep(2500);
    stop = true;
    await Promise.all(running);
    const sentFor = Date.now() - t0;

    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    cleanup.push(() => sql.end({ timeout: 1 }));
    let rows: { id: string; seq: string; conversation_id: string; message_type: string }[] = [];
    await waitFor("every acknowledged message in PostgreSQL", async () => {
      rows = await sql`select id, seq, conversation_id, message_type from messages order by conversation_id, seq`;
      const have = new Set(rows.map((x) => x.id));
      return [...acked.keys()].every((id) => have.has(id));
    }, 20_000, 200);

    // Exactly once: no id twice, every acknowledged id present with the seq it was acknowledged with.
    const ids = rows.map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    const bySeq = new Map(rows.map((x) => [x.id, Number(x.seq)]));
    const wrongSeq = [...acked].filter(([id, a]) => bySeq.get(id) !== a.seq);
    expect(wrongSeq).toEqual([]);
    // Every attempt was retried until acknowledged, so PostgreSQL holds nothing that was not acknowledged
    // (besides each room's "created" system line, which takes its seq 1).
    expect(rows.filter((x) => x.message_type !== "system").length).toBe(acked.size);
    const perRoom = new Map<string, string[]>(rooms.map((c) => [c, []]));
    for (const row of rows) {
      const list = perRoom.get(row.conversation_id)!;
      expect(Number(row.seq)).toBe(list.length + 1); // no holes, no duplicate seqs
      list.push(row.id);
    }

    await waitFor("readers caught up", () => chatReaders.every((cr) => cr.caughtUp((c) => perRoom.get(c)!.length)), 15_000);
    for (const cr of chatReaders) {
      expect(cr.conflicts).toEqual([]);
      expect(cr.deliveryProblems()).toEqual([]);
      expect(cr.accepted.get(cr.conversations[0]!)).toEqual(perRoom.get(cr.conversations[0]!)!);
    }
    // The restarted instance continues each conversation's seq where the others left it.
    const next = await json(restarted.base, "POST", "/chat/send", { conversation_id: rooms[0]!, content: "after restart" }, senders[0]!.access_token);
    expect(next.status).toBe(201);
    expect(next.json.message.seq).toBe(perRoom.get(rooms[0]!)!.length + 1);
    const resumed = chatReaders.filter((cr) => cr.sessions.length > 1);
    expect(resumed.length).toBe(ROOMS / 2);
    expect(refused).toEqual([]);
    expect(beforeKill).toBeGreaterThan(100);
    console.log(
      `chat crash (${route.name}): ${SENDERS} senders for ${sentFor} ms, SIGKILL at ${killedAt} ms, restarted in ${restartMs} ms; ` +
      `${acked.size} acknowledged (${beforeKill} before the kill), ${retries} retries, ${rows.length} rows in PostgreSQL, ` +
      `${resumed.length} readers resumed (${chatReaders.reduce((a, cr) => a + cr.resumesSent, 0)} resume frames, ` +
      `${chatReaders.reduce((a, cr) => a + cr.duplicatesSeen, 0)} repeated frames dropped by seq, ${chatReaders.reduce((a, cr) => a + cr.gapsSeen, 0)} gaps)`,
    );
  }, 120_000);
});
}
