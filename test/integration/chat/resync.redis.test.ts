/**
 * After the Redis subscriber connection drops and comes back, events
 * published meanwhile were missed: every socket is sent a fresh `ready`
 * frame (`resync: true`) with its conversations' last seqs, so the client
 * resumes by seq where it is behind (PostgreSQL + Redis logical db 9, shared with cache-ttl.redis.test.ts: files run one after another and each flushes it first).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { call, registerUser } from "../../helpers/app";
import { postgresAvailable, redisAvailable, redisDbUrl } from "../../helpers/services";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../../helpers/runtime";

const ok = (await redisAvailable()) && (await postgresAvailable());
const INSTANCE = `resync${process.pid}`;

describe.skipIf(!ok)("subscriber reconnect", () => {
  let rt: TestRuntime;
  let admin: Redis;
  beforeAll(async () => {
    rt = await buildTestRuntime("postgres", { redisDb: 9, listen: true, engineInstance: INSTANCE });
    admin = new Redis(redisDbUrl(9));
  }, 30_000);
  afterAll(async () => {
    admin?.disconnect();
    await rt?.close();
  });

  test("sockets get a resync ready frame with the seqs they missed", async () => {
    const a = await registerUser(rt.app);
    const b = await registerUser(rt.app);
    const first = await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { to: b.user.id, content: "one" } });
    const cid = first.json.message.conversation_id;
    const sb = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${b.access_token}`);
    await sb.next((f) => f.type === "ready");

    const clients = String(await admin.call("CLIENT", "LIST", "TYPE", "pubsub"));
    const id = clients.split("\n").find((l) => l.includes(` name=huddle:${INSTANCE}:sub `))?.match(/^id=(\d+)/)?.[1];
    expect(id).toBeDefined();
    expect(Number(await admin.call("CLIENT", "KILL", "ID", id!))).toBe(1);
    // Sent while the subscriber may be down: the live frame can be lost, the resync says seq 2 exists.
    await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { to: b.user.id, content: "two" } });

    const resync = await sb.next((f) => f.type === "ready" && f.resync === true, 5_000);
    expect(resync.user_id).toBe(b.user.id);
    const entry = resync.conversations.find((c: { conversation_id: string }) => c.conversation_id === cid);
    expect(entry.last_seq).toBeGreaterThanOrEqual(1);
    // The client's resume from its last seq returns what it may have missed.
    sb.send({ type: "resume", conversation_id: cid, after_seq: 1 });
    const replayed = await sb.next((f) => f.type === "message" && f.message.seq === 2 && f.message.content === "two", 5_000);
    expect(replayed.message.sender_id).toBe(a.user.id);
    sb.close();
  }, 30_000);
});
