/**
 * Mentions and notifications as users see them, on each store combination:
 * @username in a room message names members (stored as `mentions`), a
 * mention or direct message to someone offline becomes a notification they
 * can list and mark read, someone online gets a `notification` frame
 * instead, muting silences a conversation, and unread counts show in
 * GET /users/me. The notification worker runs asynchronously: each check
 * waits for what a user would eventually see, and absence is checked behind
 * a later notification of the same FIFO queue (one worker).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { messages } from "../../../src/db/schema";
import { call, registerUser } from "../../helpers/app";
import { TestSocket, type TestRuntime } from "../../helpers/runtime";

type User = Awaited<ReturnType<typeof registerUser>>;
type Note = { id: string; kind: string; conversation_id: string; message_id: string; seq: number; excerpt: string; read_at: string | null; sender: { id: string; username: string } | null };

export async function eventually<T>(what: string, check: () => Promise<T | undefined | null | false>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`gave up waiting: ${what}`);
    await Bun.sleep(50);
  }
}

export function notificationsSuite(name: string, build: () => Promise<TestRuntime>) {
  describe(`mentions and notifications (${name})`, () => {
    let rt: TestRuntime;
    let alice: User, bob: User, carol: User, dave: User;
    let room: string;
    beforeAll(async () => {
      rt = await build();
      [alice, bob, carol, dave] = await Promise.all(["na", "nb", "nc", "nd"].map((p) => registerUser(rt.app, p)));
      room = (await call(rt.app, "POST", "/rooms", { token: alice.access_token, body: { name: "standup", members: [bob.user.id, carol.user.id] } })).json.id;
    }, 30_000);
    afterAll(async () => {
      await rt?.close();
    });
    const api = (method: string, path: string, u: User, body?: unknown) => call(rt.app, method, path, { token: u.access_token, body });
    const say = async (u: User, content: string, target: { conversation_id?: string; to?: string } = { conversation_id: room }) => {
      const res = await api("POST", "/chat/send", u, { ...target, content });
      expect(res.status).toBe(201);
      return res.json.message;
    };
    const notes = async (u: User, query = ""): Promise<{ notifications: Note[]; unread_count: number; next_cursor: string | null }> =>
      (await api("GET", `/notifications${query}`, u)).json;
    const noteFor = (u: User, messageId: string) =>
      eventually(`notification of ${messageId}`, async () => (await notes(u, "?limit=100")).notifications.find((n) => n.message_id === messageId));

    test("@username names room members: stored as `mentions` (ids), in the reply, in history from Redis and PostgreSQL", async () => {
      const m = await say(alice, `Hi @${bob.username.toUpperCase()} and @${carol.username}, not @${dave.username} (no member), not @nobody_here, not @${alice.username} (me), not mail@${bob.username}.x; again @${bob.username}.`);
      expect([...m.mentions].sort()).toEqual([bob.user.id, carol.user.id].sort());
      const history = (await api("GET", `/chat/history?conversation_id=${room}`, bob)).json.messages;
      expect(history.find((x: { id: string }) => x.id === m.id).mentions.sort()).toEqual([bob.user.id, carol.user.id].sort());
      // Once persisted, PostgreSQL gives the same (the page below the Redis list comes from there).
      const row = await eventually("persisted", async () => (await rt.database.db.select().from(messages).where(eq(messages.id, m.id)))[0]);
      expect([...row.mentions!].sort()).toEqual([bob.user.id, carol.user.id].sort());
      const plain = await say(alice, "no one named here");
      expect(plain.mentions).toBeUndefined();
      const dm = await say(alice, `hey @${bob.username}`, { to: bob.user.id });
      expect(dm.mentions).toBeUndefined();
    });

    test("a mention of someone offline becomes a notification; GET /users/me counts it", async () => {
      const before = (await api("GET", "/users/me", bob)).json.unread_notifications as number;
      const m = await say(alice, `@${bob.username} can you review the sprint notes?`);
      const n = await noteFor(bob, m.id);
      expect(n).toMatchObject({ kind: "mention", conversation_id: room, seq: m.seq, read_at: null, sender: { id: alice.user.id, username: alice.username } });
      expect(n.excerpt).toBe(m.content);
      expect((await api("GET", "/users/me", bob)).json.unread_notifications).toBeGreaterThan(before);
      // Nobody else was named, so nobody else got it.
      expect((await notes(dave)).notifications.find((x) => x.message_id === m.id)).toBeUndefined();
    });

    test("the excerpt follows the message: an edit shows, a deleted message's text does not stay readable", async () => {
      const m = await say(alice, `@${carol.username} the door code is 4711`);
      expect((await noteFor(carol, m.id)).excerpt).toBe(m.content);
      expect((await api("PATCH", `/chat/messages/${m.id}`, alice, { content: `@${carol.username} ask me for the door code` })).status).toBe(200);
      await eventually("edited excerpt", async () => (await noteFor(carol, m.id)).excerpt === `@${carol.username} ask me for the door code`);
      expect((await api("DELETE", `/chat/messages/${m.id}`, alice)).status).toBe(200);
      await eventually("deleted excerpt", async () => (await noteFor(carol, m.id)).excerpt === "(message deleted)");
      expect(JSON.stringify((await notes(carol, "?limit=100")).notifications)).not.toContain("door code");
    });

    test("a direct message to someone offline is a `direct` notification", async () => {
      const m = await say(carol, "are you around later?", { to: dave.user.id });
      const n = await noteFor(dave, m.id);
      expect(n).toMatchObject({ kind: "direct", seq: m.seq, excerpt: "are you around later?", sender: { id: carol.user.id } });
    });

    test("someone online gets a `notification` frame on every socket, and nothing is stored", async () => {
      const s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${carol.access_token}`);
      try {
        await s.next((f) => f.type === "ready");
        const m = await say(alice, `@${carol.username} ping`);
        const frame = await s.next((f) => f.type === "notification" && f.notification.message_id === m.id, 10_000);
        expect(frame.notification).toMatchObject({ kind: "mention", conversation_id: room, seq: m.seq, excerpt: `@${carol.username} ping`, sender: { id: alice.user.id } });
        // A later offline notification of the same queue proves the worker got past this one.
        const later = await say(alice, `@${bob.username} after carol`);
        await noteFor(bob, later.id);
        expect((await notes(carol, "?limit=100")).notifications.find((n) => n.message_id === m.id)).toBeUndefined();
      } finally {
        s.close();
      }
    });

    test("a muted conversation notifies nobody until the mute ends; mute is for members only", async () => {
      const muted = await api("POST", `/chat/conversations/${room}/mute`, bob, {});
      expect(muted.status).toBe(200);
      expect(muted.json).toEqual({ conversation_id: room, muted: true, muted_until: null });
      const silent = await say(alice, `@${bob.username} you will not hear this`);
      const dm = await say(alice, "but this you will", { to: bob.user.id });
      await noteFor(bob, dm.id);
      expect((await notes(bob, "?limit=100")).notifications.find((n) => n.message_id === silent.id)).toBeUndefined();
      // `until` in the past unmutes; a future `until` is echoed back.
      const soon = new Date(Date.now() + 3_600_000).toISOString();
      expect((await api("POST", `/chat/conversations/${room}/mute`, bob, { until: soon })).json).toEqual({ conversation_id: room, muted: true, muted_until: soon });
      const unmuted = await api("POST", `/chat/conversations/${room}/mute`, bob, { until: "2000-01-01T00:00:00Z" });
      expect(unmuted.json).toEqual({ conversation_id: room, muted: false, muted_until: null });
      // No body at all means the same as {}: muted until unmuted.
      const bare = await call(rt.app, "POST", `/chat/conversations/${room}/mute`, { token: carol.access_token });
      expect(bare.status, bare.text).toBe(200);
      expect(bare.json.muted).toBe(true);
      await api("POST", `/chat/conversations/${room}/mute`, carol, { until: "2000-01-01T00:00:00Z" });
      const heard = await say(alice, `@${bob.username} and now again`);
      await noteFor(bob, heard.id);
      // Outsiders learn nothing about the conversation; bad input is a 400.
      expect((await api("POST", `/chat/conversations/${room}/mute`, dave, {})).status).toBe(404);
      expect((await api("POST", `/chat/conversations/${room}/mute`, bob, { until: "tomorrow" })).status).toBe(400);
    });

    test("pages list unread first, newest first, without gaps or repeats; read marks by ids or all", async () => {
      const u = await registerUser(rt.app, "np");
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await say(alice, `note ${i}`, { to: u.user.id })).id);
      await noteFor(u, ids[4]!);
      await eventually("five", async () => (await notes(u)).notifications.length === 5);
      const all = (await notes(u)).notifications;
      // Mark the two newest read: they go after the three unread.
      const newest = all.slice(0, 2).map((n) => n.id);
      const marked = await api("POST", "/notifications/read", u, { ids: [...newest, all[0]!.id] });
      expect(marked.json).toEqual({ updated: 2, unread_count: 3 });
      const seen: Note[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof notes>> = await notes(u, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        expect(page.notifications.length).toBeLessThanOrEqual(2);
        expect(page.unread_count).toBe(3);
        seen.push(...page.notifications);
        cursor = page.next_cursor;
      } while (cursor);
      expect(seen.map((n) => n.excerpt)).toEqual(["note 2", "note 1", "note 0", "note 4", "note 3"]);
      expect(seen.map((n) => n.read_at === null)).toEqual([true, true, true, false, false]);
      expect((await api("GET", "/users/me", u)).json.unread_notifications).toBe(3);
      // Someone else's ids change nothing of theirs.
      const bobs = (await notes(bob)).notifications.filter((n) => n.read_at === null).map((n) => n.id);
      expect((await api("POST", "/notifications/read", u, { ids: bobs.slice(0, 1) })).json.updated).toBe(0);
      expect((await notes(bob)).unread_count).toBe(bobs.length);
      expect((await api("POST", "/notifications/read", u, { all: true })).json).toEqual({ updated: 3, unread_count: 0 });
      expect((await api("GET", "/users/me", u)).json.unread_notifications).toBe(0);
    });

    test("bad requests are 400s with the error shape", async () => {
      for (const body of [{}, { ids: [], all: true }, { ids: ["x"] }, { all: false }, { ids: [Bun.randomUUIDv7()], all: true }]) {
        const res = await api("POST", "/notifications/read", bob, body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.json.error.code).toBeString();
      }
      expect((await api("GET", "/notifications?limit=0", bob)).status).toBe(400);
      expect((await api("GET", "/notifications?cursor=nope", bob)).status).toBe(400);
      expect((await call(rt.app, "GET", "/notifications")).status).toBe(401);
    });
  });
}
