/**
 * Fault 7: three instances sharing Redis and PostgreSQL. Whatever instance a
 * socket is on, it gets messages, presence, typing, read markers and judge
 * results meant for it, once each, and nothing meant for others; delivery
 * across instances is fast, and an instance subscribes to a conversation
 * only while one of its sockets follows it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { createTestDatabase, postgresAvailable, redisAvailable, redisDbUrl } from "../helpers/services";
import { json, registerOver, spawnServer, type ServerProcess } from "../helpers/process";
import { TestSocket } from "../helpers/runtime";
import { createRoom, waitFor } from "./lib";

const ok = (await redisAvailable()) && (await postgresAvailable());

describe.skipIf(!ok)("fault domain: three instances", () => {
  let A: ServerProcess, B: ServerProcess, C: ServerProcess;
  let redis: Redis;
  const cleanup: (() => Promise<unknown>)[] = [];
  const open = async (s: ServerProcess, token: string) => {
    const sock = await TestSocket.connect(`${s.wsBase}/chat/subscribe?token=${token}`);
    cleanup.push(async () => sock.close());
    await sock.next((f) => f.type === "ready");
    return sock;
  };
  beforeAll(async () => {
    const db = await createTestDatabase("fmulti");
    cleanup.push(db.drop);
    const url = redisDbUrl(1);
    redis = new Redis(url);
    await redis.flushdb();
    cleanup.push(async () => redis.disconnect());
    const env = { DATABASE_URL: db.url, REDIS_URL: url, RATE_LIMIT_SCALE: "1000", CONVERSATION_IDLE_MS: "300", RUNNER_POOL_SIZE: "1" };
    // Only C judges.
    [A, B, C] = await Promise.all([
      spawnServer({ ...env, WORKER_CONCURRENCY: "0" }),
      spawnServer({ ...env, WORKER_CONCURRENCY: "0" }),
      spawnServer({ ...env, WORKER_CONCURRENCY: "1" }),
    ]);
    cleanup.push(() => A.kill(), () => B.kill(), () => C.kill());
  }, 60_000);
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  test("a message sent through A reaches a socket on B quickly, in order, once", async () => {
    const a = await registerOver(A.base, "ma");
    const b = await registerOver(A.base, "mb");
    const first = await json(A.base, "POST", "/chat/send", { to: b.user.id, content: "warm-up" }, a.access_token);
    const cid = first.json.message.conversation_id;
    const sb = await open(B, b.access_token);
    const latencies: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now();
      const res = await json(A.base, "POST", "/chat/send", { conversation_id: cid, content: `x${i}` }, a.access_token);
      await sb.next((f) => f.type === "message" && f.message.id === res.json.message.id, 2000);
      latencies.push(performance.now() - t0);
    }
    latencies.sort((x, y) => x - y);
    const p99 = latencies[Math.floor(latencies.length * 0.99) - 1]!;
    console.log(`cross-instance send->receive: p50 ${latencies[49]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    expect(p99).toBeLessThan(100);
    const seqs = sb.frames.filter((f) => f.type === "message").map((f) => f.message.seq);
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));

    // B holds the chat:{id} subscription only while its socket follows the conversation.
    const channels = async () => (await redis.call("PUBSUB", "CHANNELS", `chat:{${cid}}`)) as string[];
    expect(await channels()).toEqual([`chat:{${cid}}`]);
    sb.close();
    await sb.waitClose();
    for (let i = 0; i < 50 && (await channels()).length > 0; i++) await Bun.sleep(20);
    expect(await channels()).toEqual([]);
  }, 30_000);

  test("presence, typing, read markers, messages and judge results reach the right sockets once", async () => {
    const [u1, u2, u3] = await Promise.all([registerOver(A.base, "m1"), registerOver(B.base, "m2"), registerOver(C.base, "m3")]);
    const room = await createRoom(A.base, u1.access_token, "three", [u2.user.id, u3.user.id]);
    // u1 and u2 also share a direct conversation: two channels carry u2's presence to u1.
    expect((await json(B.base, "POST", "/chat/send", { to: u1.user.id, content: "dm" }, u2.access_token)).status).toBe(201);
    const s1a = await open(A, u1.access_token);
    const s1c = await open(C, u1.access_token);
    const s3c = await open(C, u3.access_token);
    // Marked before u2 connects: its "online" may reach the others before its own `ready` reaches the test.
    const mark = new Map(Object.entries({ s1a, s1c, s3c }).map(([k, s]) => [k, s.frames.length]));
    const s2b = await open(B, u2.access_token); // last: its "online" goes to the others
    mark.set("s2b", s2b.frames.length);
    const all = { s1a, s1c, s2b, s3c };
    const since = (name: keyof typeof all) => all[name].frames.slice(mark.get(name));

    // Presence of u2 (on B) reaches u1 on A and C, and u3 on C; every instance answers "online" over HTTP.
    for (const s of [s1a, s1c, s3c]) await s.next((f) => f.type === "presence" && f.user_id === u2.user.id && f.online, 3000);
    for (const s of [A, C]) expect((await json(s.base, "GET", `/users/${u2.user.id}`, undefined, u1.access_token)).json.online).toBe(true);
    // Typing by u1 (on A) in the room: the others, not u1's own sockets.
    s1a.send({ type: "typing", conversation_id: room });
    for (const s of [s2b, s3c]) await s.next((f) => f.type === "typing" && f.user_id === u1.user.id, 3000);
    // A message from u3 through A over HTTP, and one from u1 over its socket on A.
    const byHttp = await json(A.base, "POST", "/chat/send", { conversation_id: room, content: "via http", client_id: "h1" }, u3.access_token);
    expect(byHttp.status).toBe(201);
    s1a.send({ type: "send", conversation_id: room, content: "via ws", client_id: "w1" });
    const reply = await s1a.next((f) => f.type === "message" && f.client_id === "w1", 3000);
    for (const s of [s1a, s1c, s2b, s3c]) await s.next((f) => f.type === "message" && f.message.id === byHttp.json.message.id, 3000);
    for (const s of [s1c, s2b, s3c]) await s.next((f) => f.type === "message" && f.message.id === reply.message.id, 3000);
    // u2 (on B) reads up to the last message: every member socket hears it.
    expect((await json(B.base, "POST", "/chat/read", { conversation_id: room, seq: reply.message.seq }, u2.access_token)).status).toBe(200);
    for (const s of [s1a, s1c, s2b, s3c]) await s.next((f) => f.type === "read" && f.user_id === u2.user.id, 3000);
    // u2 submits through A; C judges; the result reaches u2's socket on B.
    const problemId = await waitFor("the catalog (loaded by C)", async () => (await json(A.base, "GET", "/problems", undefined, u2.access_token)).json?.problems?.[0]?.id as string | undefined, 30_000);
    const job = await json(A.base, "POST", "/problems/submit", { problem_id: problemId, sql_query: "select 1" }, u2.access_token);
    expect(job.status).toBe(202);
    await s2b.next((f) => f.type === "problem.result" && f.job_id === job.json.job_id, 20_000);
    await Bun.sleep(500); // room for duplicates to show up

    const isPresence = (f: any) => f.type === "presence" && f.user_id === u2.user.id && f.online;
    // Typing frames carry the typist and also reach the typist's own sockets, which skip them: count others' typing.
    const userOf = { s1a: u1.user.id, s1c: u1.user.id, s2b: u2.user.id, s3c: u3.user.id } as Record<keyof typeof all, string>;
    const count = (name: keyof typeof all, pred: (f: any) => boolean) => since(name).filter(pred).filter((f: any) => f.type !== "typing" || f.user_id !== userOf[name]).length;
    const isTyping = (f: any) => f.type === "typing";
    const isMsg = (id: string) => (f: any) => f.type === "message" && f.message.id === id;
    const isRead = (f: any) => f.type === "read";
    const isResult = (f: any) => f.type === "problem.result";
    const table = Object.fromEntries(Object.keys(all).map((k) => {
      const n = k as keyof typeof all;
      return [n, [count(n, isPresence), count(n, isTyping), count(n, isMsg(byHttp.json.message.id)), count(n, isMsg(reply.message.id)), count(n, isRead), count(n, isResult)]];
    }));
    //                presence typing http-msg ws-msg read result
    expect(table).toEqual({
      s1a: [1, 0, 1, 1, 1, 0], // the ws message once: as the reply to its own send
      s1c: [1, 0, 1, 1, 1, 0],
      s2b: [0, 1, 1, 1, 1, 1],
      s3c: [1, 1, 1, 1, 1, 0],
    });
    expect(reply.client_id).toBe("w1");

    // u2 goes offline: u1's sockets on A and C hear it once each.
    s2b.close();
    for (const s of [s1a, s1c]) await s.next((f) => f.type === "presence" && f.user_id === u2.user.id && !f.online, 3000);
    await Bun.sleep(300);
    for (const s of [s1a, s1c]) expect(s.frames.filter((f) => f.type === "presence" && f.user_id === u2.user.id && !f.online)).toHaveLength(1);
    expect((await json(C.base, "GET", `/users/${u2.user.id}`, undefined, u1.access_token)).json.online).toBe(false);
    console.log(`multi-instance: 3 instances, 4 sockets; presence, typing, 2 messages, a read marker and a judge result each delivered once per intended socket (table ${JSON.stringify(table)})`);
  }, 60_000);
});
