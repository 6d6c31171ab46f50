/**
 * Two instances on one PostgreSQL and one Redis (logical db 13): an edit, a
 * delete and a system line made on one instance reach sockets on the other
 * live; a member removed on one instance stops receiving the room on the
 * other at once; resume on the other instance replays the events.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import Redis from "ioredis";
import { startRuntime, type Runtime } from "../../../src/root";
import { createEngine } from "../../../src/engine";
import { openDatabase } from "../../../src/db/client";
import { migrate } from "../../../src/db/migrate";
import { call, registerUser, testConfig } from "../../helpers/app";
import { createTestDatabase, postgresAvailable, redisAvailable, redisDbUrl } from "../../helpers/services";
import { generousBuckets, TestSocket } from "../../helpers/runtime";

const ok = (await redisAvailable()) && (await postgresAvailable());
const REDIS = redisDbUrl(13);

describe.skipIf(!ok)("chat events across two instances", () => {
  const instances: (Runtime & { ws: string })[] = [];
  const sockets: TestSocket[] = [];
  let dropDb: () => Promise<void>;

  beforeAll(async () => {
    const r = new Redis(REDIS);
    await r.flushdb();
    r.disconnect();
    const { url, drop } = await createTestDatabase("events2");
    dropDb = drop;
    for (const name of ["ev-a", "ev-b"]) {
      const database = await openDatabase({ databaseUrl: url, dataDir: "/tmp", poolSize: 5 });
      await migrate(database.db);
      const config = testConfig({ REDIS_URL: REDIS, INSTANCE_ID: `${name}-${process.pid}`, CONVERSATION_IDLE_MS: "500" });
      const engine = await createEngine({ redisUrl: REDIS, chatTtlSec: config.CHAT_CACHE_TTL_SEC });
      const rt = await startRuntime(config, { database, engine, buckets: generousBuckets() });
      rt.app.listen({ port: 0, hostname: "127.0.0.1" });
      instances.push({ ...rt, ws: `ws://127.0.0.1:${rt.app.server!.port}` });
    }
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const rt of instances) await rt.stop();
    await dropDb?.().catch(() => {});
  });

  const connect = async (on: number, token: string) => {
    const s = await TestSocket.connect(`${instances[on]!.ws}/chat/subscribe?token=${token}`);
    sockets.push(s);
    await s.next((f) => f.type === "ready");
    return s;
  };

  test("edits, deletes and removals made on A reach sockets on B at once", async () => {
    const [A, B] = [instances[0]!.app, instances[1]!.app];
    const owner = await registerUser(A, "io");
    const mem = await registerUser(A, "im");
    const stay = await registerUser(B, "is");
    const room = (await call(A, "POST", "/rooms", { token: owner.access_token, body: { name: "two", members: [mem.user.id, stay.user.id] } })).json.id;
    const sm = await connect(1, mem.access_token);
    const ss = await connect(1, stay.access_token);
    const msg = (await call(A, "POST", "/chat/send", { token: owner.access_token, body: { conversation_id: room, content: "tpyo" } })).json.message;
    await sm.next((f) => f.type === "message" && f.message.id === msg.id);

    expect((await call(A, "PATCH", `/chat/messages/${msg.id}`, { token: owner.access_token, body: { content: "typo" } })).status).toBe(200);
    for (const s of [sm, ss]) expect((await s.next((f) => f.type === "message" && f.message.message_type === "edit")).message).toMatchObject({ ref_id: msg.id, content: "typo" });
    // Read back through the other instance: the current state.
    const h = await call(B, "GET", `/rooms/${room}/messages`, { token: stay.access_token });
    expect(h.json.messages.find((m: { id: string }) => m.id === msg.id)).toMatchObject({ content: "typo", is_edited: true });

    expect((await call(B, "DELETE", `/chat/messages/${msg.id}`, { token: owner.access_token })).status).toBe(200);
    for (const s of [sm, ss]) await s.next((f) => f.type === "message" && f.message.message_type === "delete" && f.message.ref_id === msg.id);

    // Removed on A: the socket on B is told and hears nothing more of the room.
    expect((await call(A, "DELETE", `/rooms/${room}/members/${mem.user.id}`, { token: owner.access_token })).status).toBe(200);
    expect(await sm.next((f) => f.type === "conversation.left")).toMatchObject({ conversation_id: room, reason: "removed" });
    const after = (await call(A, "POST", "/chat/send", { token: owner.access_token, body: { conversation_id: room, content: "after removal" } })).json.message;
    await ss.next((f) => f.type === "message" && f.message.id === after.id);
    const removedLine = await ss.next((f) => f.type === "message" && f.message.system?.kind === "removed");
    expect(removedLine.message.system.target_id).toBe(mem.user.id);
    expect(sm.frames.some((f) => f.type === "message" && (f.message.id === after.id || f.message.system?.kind === "removed"))).toBe(false);
    sm.send({ type: "resume", conversation_id: room, after_seq: 0 });
    expect((await sm.next((f) => f.type === "error")).status).toBe(404);

    // A socket on B that resumes from the start sees the edit and the delete as entries, the message as a tombstone.
    const late = await connect(1, stay.access_token);
    late.send({ type: "resume", conversation_id: room, after_seq: 0 });
    await late.next((f) => f.type === "message" && f.resumed && f.message.id === after.id);
    const replay = late.frames.filter((f) => f.type === "message" && f.resumed).map((f) => f.message);
    expect(replay.map((m: { seq: number }) => m.seq)).toEqual(replay.map((_: unknown, i: number) => i + 1));
    expect(replay.find((m: { id: string }) => m.id === msg.id)).toMatchObject({ content: "", deleted: true });
    expect(replay.filter((m: { message_type: string }) => m.message_type === "edit" || m.message_type === "delete").map((m: { message_type: string }) => m.message_type)).toEqual(["edit", "delete"]);
  }, 30_000);
});
