/**
 * Chat and rooms over HTTP, as a user sees them. Run against each store
 * combination (PGlite + memory engine, PostgreSQL + Redis).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, registerUser } from "../../helpers/app";
import type { TestRuntime } from "../../helpers/runtime";

export function chatHttpSuite(name: string, build: () => Promise<TestRuntime>) {
  describe(`chat over HTTP (${name})`, () => {
    let rt: TestRuntime;
    beforeAll(async () => {
      rt = await build();
    }, 30_000);
    afterAll(async () => {
      await rt?.close();
    });
    const api = (method: string, path: string, token?: string, body?: unknown) => call(rt.app, method, path, { token, body });

    test("first direct message creates one conversation per pair, whatever the order or concurrency", async () => {
      const a = await registerUser(rt.app, "dma");
      const b = await registerUser(rt.app, "dmb");
      const sends = await Promise.all([
        ...Array.from({ length: 5 }, (_, i) => api("POST", "/chat/send", a.access_token, { to: b.user.id, content: `a${i}` })),
        ...Array.from({ length: 5 }, (_, i) => api("POST", "/chat/send", b.access_token, { to: a.user.id, content: `b${i}` })),
      ]);
      expect(sends.map((s) => s.status)).toEqual(Array(10).fill(201));
      const ids = new Set(sends.map((s) => s.json.message.conversation_id));
      expect(ids.size).toBe(1);
      const seqs = sends.map((s) => s.json.message.seq).sort((x, y) => x - y);
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const m = sends[0]!.json.message;
      expect(Object.keys(m).sort()).toEqual(["client_id", "content", "conversation_id", "id", "message_type", "receiver_id", "sender_id", "seq", "timestamp"]);
      expect(m.receiver_id).toBe(b.user.id);
    }, 30_000);

    test("sending to yourself, to an unknown user, or empty content is a clear 4xx", async () => {
      const a = await registerUser(rt.app);
      const self = await api("POST", "/chat/send", a.access_token, { to: a.user.id, content: "hi" });
      expect(self.status).toBe(400);
      expect(self.json.error.message).toContain("yourself");
      const unknown = await api("POST", "/chat/send", a.access_token, { to: Bun.randomUUIDv7(), content: "hi" });
      expect(unknown.status).toBe(404);
      const blank = await api("POST", "/chat/send", a.access_token, { to: Bun.randomUUIDv7(), content: "   \n " });
      expect(blank.status).toBe(400);
      const tooLong = await api("POST", "/chat/send", a.access_token, { to: Bun.randomUUIDv7(), content: "x".repeat(4001) });
      expect(tooLong.status).toBe(400);
      const noTarget = await api("POST", "/chat/send", a.access_token, { content: "hi" });
      expect(noTarget.status).toBe(400);
    }, 30_000);

    test("a retry with the same client_id returns the original message", async () => {
      const a = await registerUser(rt.app);
      const b = await registerUser(rt.app);
      const first = await api("POST", "/chat/send", a.access_token, { to: b.user.id, content: "once", client_id: "c-1" });
      const again = await api("POST", "/chat/send", a.access_token, { to: b.user.id, content: "once", client_id: "c-1" });
      expect(again.status).toBe(201);
      expect(again.json.message).toEqual(first.json.message);
      const h = await api("GET", `/chat/history?with=${b.user.id}`, a.access_token);
      expect(h.json.messages.map((m: { content: string }) => m.content)).toEqual(["once"]);
    }, 30_000);

    test("history pages from Redis into PostgreSQL seamlessly, ascending, with has_more", async () => {
      const a = await registerUser(rt.app);
      const b = await registerUser(rt.app);
      for (let i = 1; i <= 120; i++) {
        const r = await api("POST", "/chat/send", i % 2 ? a.access_token : b.access_token, { to: i % 2 ? b.user.id : a.user.id, content: `m${i}` });
        expect(r.status).toBe(201);
      }
      await waitPersisted(rt, a.access_token, b.user.id, 120);
      const seen: number[] = [];
      let before: number | undefined;
      for (let page = 0; page < 10; page++) {
        const q = `/chat/history?with=${b.user.id}&limit=35${before ? `&before_seq=${before}` : ""}`;
        const h = await api("GET", q, a.access_token);
        expect(h.status).toBe(200);
        const seqs = h.json.messages.map((m: { seq: number }) => m.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        seen.unshift(...seqs);
        if (!h.json.has_more) break;
        before = seqs[0];
      }
      expect(seen).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    }, 30_000);

    test("only members read a conversation; others get 404", async () => {
      const a = await registerUser(rt.app);
      const b = await registerUser(rt.app);
      const c = await registerUser(rt.app);
      const sent = await api("POST", "/chat/send", a.access_token, { to: b.user.id, content: "private" });
      const cid = sent.json.message.conversation_id;
      expect((await api("GET", `/chat/history?conversation_id=${cid}`, c.access_token)).status).toBe(404);
      expect((await api("POST", "/chat/send", c.access_token, { conversation_id: cid, content: "intrude" })).status).toBe(404);
      expect((await api("POST", "/chat/read", c.access_token, { conversation_id: cid, seq: 1 })).status).toBe(404);
      expect((await api("GET", `/chat/history?conversation_id=${Bun.randomUUIDv7()}`, a.access_token)).status).toBe(404);
      expect((await api("GET", `/chat/history?conversation_id=not-a-uuid`, a.access_token)).status).toBe(400);
    }, 30_000);

    test("conversation list: last message, unread from read markers, ordered by activity", async () => {
      const a = await registerUser(rt.app);
      const b = await registerUser(rt.app);
      const c = await registerUser(rt.app);
      await api("POST", "/chat/send", b.access_token, { to: a.user.id, content: "from b 1" });
      await api("POST", "/chat/send", b.access_token, { to: a.user.id, content: "from b 2" });
      const last = await api("POST", "/chat/send", c.access_token, { to: a.user.id, content: "from c" });
      await waitPersisted(rt, c.access_token, a.user.id, 1);
      await waitPersisted(rt, b.access_token, a.user.id, 2);
      const list = await api("GET", "/chat/conversations", a.access_token);
      expect(list.status).toBe(200);
      const [first, second] = list.json.conversations;
      expect(first.id).toBe(last.json.message.conversation_id);
      expect(first.peer.username).toBe(c.username);
      expect(first.last_message.content).toBe("from c");
      expect(second.unread).toBe(2);
      const read = await api("POST", "/chat/read", a.access_token, { conversation_id: second.id, seq: 1 });
      expect(read.json.last_read_seq).toBe(1);
      const after = await api("GET", "/chat/conversations", a.access_token);
      expect(after.json.conversations.find((x: { id: string }) => x.id === second.id).unread).toBe(1);
    }, 30_000);

    test("own messages are never unread: sending moves the sender's read marker", async () => {
      const a = await registerUser(rt.app);
      const b = await registerUser(rt.app);
      const entry = async (token: string, id: string) => (await api("GET", "/chat/conversations", token)).json.conversations.find((x: { id: string }) => x.id === id);
      const first = await api("POST", "/chat/send", a.access_token, { to: b.user.id, content: "one" });
      const cid = first.json.message.conversation_id;
      await api("POST", "/chat/send", b.access_token, { conversation_id: cid, content: "two" });
      await api("POST", "/chat/send", b.access_token, { conversation_id: cid, content: "three" });
      await waitPersisted(rt, a.access_token, b.user.id, 3);
      expect(await entry(a.access_token, cid)).toMatchObject({ last_seq: 3, last_read_seq: 1, unread: 2 });
      // b never called /chat/read: writing is reading.
      expect(await entry(b.access_token, cid)).toMatchObject({ last_seq: 3, last_read_seq: 3, unread: 0 });
      // a replies: what a replied to is read too, and b has one new message.
      await api("POST", "/chat/send", a.access_token, { conversation_id: cid, content: "four" });
      await waitPersisted(rt, a.access_token, b.user.id, 4);
      expect(await entry(a.access_token, cid)).toMatchObject({ last_seq: 4, last_read_seq: 4, unread: 0 });
      expect(await entry(b.access_token, cid)).toMatchObject({ last_seq: 4, last_read_seq: 3, unread: 1 });
    }, 30_000);

    test("rooms: create, list, join, private rooms, roles, leave", async () => {
      const owner = await registerUser(rt.app, "own");
      const bob = await registerUser(rt.app, "bob");
      const eve = await registerUser(rt.app, "eve");
      const pub = await api("POST", "/rooms", owner.access_token, { name: "General", description: "all hands" });
      expect(pub.status).toBe(201);
      expect(pub.json.members).toEqual([expect.objectContaining({ user_id: owner.user.id, role: "owner" })]);
      const priv = await api("POST", "/rooms", owner.access_token, { name: "Secret", is_private: true });
      const roomId = pub.json.id;
      const privId = priv.json.id;

      const bobList = await api("GET", "/rooms", bob.access_token);
      const bobIds = bobList.json.rooms.map((r: { id: string }) => r.id);
      expect(bobIds).toContain(roomId);
      expect(bobIds).not.toContain(privId);
      expect((await api("GET", `/rooms/${privId}`, bob.access_token)).status).toBe(404);
      expect((await api("POST", `/rooms/${privId}/join`, bob.access_token)).status).toBe(404);

      expect((await api("POST", "/chat/send", bob.access_token, { conversation_id: roomId, content: "before joining" })).status).toBe(404);
      const joined = await api("POST", `/rooms/${roomId}/join`, bob.access_token);
      expect(joined.json.members.map((m: { user_id: string }) => m.user_id)).toContain(bob.user.id);
      const msg = await api("POST", "/chat/send", bob.access_token, { conversation_id: roomId, content: "hello room" });
      expect(msg.status).toBe(201);
      expect(msg.json.message.receiver_id).toBeNull();
      const hist = await api("GET", `/rooms/${roomId}/messages`, owner.access_token);
      // Seq 1 is the "room created" line, 2 bob joining: system lines, in the log like messages.
      expect(hist.json.messages.map((m: { message_type: string; system?: { kind: string } }) => m.system?.kind ?? m.message_type)).toEqual(["room_created", "joined", "text"]);
      expect(hist.json.messages.at(-1).content).toBe("hello room");

      // Members cannot add people to a private room; the owner can, and only the owner adds admins.
      const add = await api("POST", `/rooms/${privId}/members`, owner.access_token, { user_ids: [bob.user.id], role: "admin" });
      expect(add.status).toBe(200);
      const addByAdmin = await api("POST", `/rooms/${privId}/members`, bob.access_token, { user_ids: [eve.user.id], role: "admin" });
      expect(addByAdmin.status).toBe(403);
      expect((await api("POST", `/rooms/${privId}/members`, bob.access_token, { user_ids: [eve.user.id] })).status).toBe(200);
      expect((await api("POST", `/rooms/${privId}/members`, eve.access_token, { user_ids: [owner.user.id] })).status).toBe(403);
      expect((await api("GET", `/rooms/${privId}`, eve.access_token)).status).toBe(200);

      const left = await api("POST", `/rooms/${roomId}/leave`, bob.access_token);
      expect(left.status).toBe(200);
      expect((await api("GET", `/rooms/${roomId}/messages`, bob.access_token)).status).toBe(404);
      // The owner leaving hands the private room to its admin.
      await api("POST", `/rooms/${privId}/leave`, owner.access_token);
      const details = await api("GET", `/rooms/${privId}`, bob.access_token);
      expect(details.json.owner_id).toBe(bob.user.id);
    }, 30_000);
  });
}

/** Waits until PostgreSQL holds `n` messages of the a<->peer conversation (the persister runs in the background). */
export async function waitPersisted(rt: TestRuntime, token: string, peerId: string, n: number) {
  const { sql } = await import("drizzle-orm");
  const { directKey } = await import("../../../src/modules/chat/repo");
  const { rowsOf } = await import("../../../src/db/client");
  const me = (await call(rt.app, "GET", "/users/me", { token })).json.id;
  for (let i = 0; i < 100; i++) {
    const rows = rowsOf(await rt.database.db.execute(sql`select count(*)::int as n from messages m join conversations c on c.id = m.conversation_id where c.direct_key = ${directKey(me, peerId)}`));
    if (Number(rows[0]!.n) >= n) return;
    await Bun.sleep(50);
  }
  throw new Error(`persister did not write ${n} messages in time`);
}
