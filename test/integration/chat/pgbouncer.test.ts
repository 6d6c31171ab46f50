/**
 * Chat behind PgBouncer in transaction pooling mode (the bug report): a burst
 * of direct and room messages over HTTP must all reach PostgreSQL, each once,
 * with the seqs they were acknowledged with. Before DATABASE_POOLER=transaction
 * existed, this lost acknowledged messages silently or hung the persister.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { postgresAvailable, redisAvailable } from "../../helpers/services";
import { pgbouncerAvailable } from "../../helpers/pgbouncer";
import { buildPooledRuntime, type PooledRuntime } from "../../helpers/pooled-runtime";

type Sent = { id: string; conversation_id: string; seq: number; content: string };

const ok = pgbouncerAvailable() && (await redisAvailable()) && (await postgresAvailable());

describe.skipIf(!ok)("chat through PgBouncer (pool_mode = transaction)", () => {
  let rt: PooledRuntime;
  beforeAll(async () => {
    rt = await buildPooledRuntime({ redisDb: 6 });
  }, 60_000);
  afterAll(async () => {
    await rt?.close();
  });

  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${rt.base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json().catch(() => null)) as any };
  };
  let n = 0;
  const register = async () => {
    const username = `pgb${Date.now().toString(36)}${(n++).toString(36)}`;
    const r = await post("/auth/register", { username, email: `${username}@example.com`, password: "correct horse battery" });
    expect(r.status).toBe(201);
    return { id: r.json.user.id as string, token: r.json.access_token as string };
  };

  test("a burst of DMs and room messages: every acknowledged message is in PostgreSQL once, seqs contiguous", async () => {
    const [a, b, ...peers] = await Promise.all(Array.from({ length: 7 }, register));
    const room = await post("/rooms", { name: "pooled", members: peers.slice(0, 2).map((p) => p.id) }, a!.token);
    expect(room.status).toBe(201);
    // Everything at once, as the report's load did: the first DM of each pair also creates its conversation.
    // Readiness probes keep coming during the burst, as from an orchestrator; their `select 1` has no
    // parameters, so postgres.js may pipeline the next query behind it on the same connection.
    const probes = Promise.all(Array.from({ length: 60 }, () => fetch(`${rt.base}/ready`).then((r) => r.status)));
    const sends = await Promise.all([
      ...Array.from({ length: 60 }, (_, i) => post("/chat/send", { to: b!.id, content: `dm ${i}` }, a!.token)),
      ...peers.flatMap((p, j) => Array.from({ length: 4 }, (_, i) => post("/chat/send", { to: a!.id, content: `peer ${j}.${i}` }, p.token))),
      ...Array.from({ length: 20 }, (_, i) => post("/chat/send", { conversation_id: room.json.id, content: `room ${i}` }, (i % 2 ? peers[0]! : a!).token)),
    ]);
    expect(sends.map((s) => s.status)).toEqual(Array(sends.length).fill(201));
    expect(await probes).toEqual(Array(60).fill(200));
    const acked: Sent[] = sends.map((s) => s.json.message);
    const byConv = Map.groupBy(acked, (m) => m.conversation_id);
    expect(byConv.size).toBe(1 + peers.length + 1);
    // The room's seq 1 is its "room created" system line.
    const first = (id: string) => (id === room.json.id ? 2 : 1);
    for (const [id, msgs] of byConv) expect(msgs.map((m) => m.seq).sort((x, y) => x - y)).toEqual(msgs.map((_, i) => i + first(id)));

    // Read PostgreSQL itself, not through the pooler under test.
    const direct = postgres(rt.directUrl, { max: 1, onnotice: () => {} });
    try {
      const deadline = Date.now() + 30_000;
      while ((await rt.engine.outbox.pending()) > 0 && Date.now() < deadline) await Bun.sleep(100);
      expect(await rt.engine.outbox.pending()).toBe(0);
      const stored = await direct<Sent[]>`select id::text, conversation_id::text, seq::int, content from messages
        where conversation_id in ${direct([...byConv.keys()])} and message_type <> 'system'`;
      const storedIds = stored.map((m) => m.id);
      expect(new Set(storedIds).size).toBe(storedIds.length);
      // Exactly what was acknowledged: same ids, each under its acknowledged seq and content.
      const want = acked.map((m) => `${m.id} ${m.conversation_id} ${m.seq} ${m.content}`).sort();
      expect(stored.map((m) => `${m.id} ${m.conversation_id} ${m.seq} ${m.content}`).sort()).toEqual(want);
      const heads = await direct<{ id: string; last_seq: number }[]>`select id::text, last_seq::int from conversations where id in ${direct([...byConv.keys()])}`;
      expect(Object.fromEntries(heads.map((h) => [h.id, h.last_seq]))).toEqual(Object.fromEntries([...byConv].map(([id, msgs]) => [id, msgs.length + first(id) - 1])));
      // One direct conversation per pair, even though the pair's first sends raced.
      const [{ dms }] = await direct`select count(*)::int as dms from conversations where kind = 'direct'`;
      expect(dms).toBe(1 + peers.length);
    } finally {
      await direct.end({ timeout: 1 });
    }
    // PgBouncer says so when a client's replies lost their server (the protocol desync behind the loss).
    expect(rt.bouncer.output()).not.toContain("when not linked");
  }, 60_000);

  test("history is served through the pooler", async () => {
    const [a, b] = await Promise.all([register(), register()]);
    for (let i = 0; i < 3; i++) expect((await post("/chat/send", { to: b.id, content: `h${i}` }, a.token)).status).toBe(201);
    const res = await fetch(`${rt.base}/chat/history?with=${b.id}`, { headers: { authorization: `Bearer ${a.token}` } });
    expect(((await res.json()) as any).messages.map((m: Sent) => m.content)).toEqual(["h0", "h1", "h2"]);
  }, 30_000);
});
