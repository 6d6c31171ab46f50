/**
 * What changes a conversation after the fact, as users see it: edits,
 * deletes, system lines, room administration, clearing one's history and
 * leaving a direct conversation. Each is an entry of the seq log: checked in
 * history (Redis and PostgreSQL), live on sockets, on resume, and in the
 * rows the persister writes (exactly once, also when a batch is replayed).
 * Run against each store combination (PGlite + memory, PostgreSQL + Redis).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { call, registerUser, type Driver } from "../../helpers/app";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../../helpers/runtime";
import { rowsOf } from "../../../src/db/client";
import type { ChatMessage } from "../../../src/engine/types";

export const EDIT_WINDOW_SEC = 3;
type User = Awaited<ReturnType<typeof registerUser>>;

export function chatEventsSuite(name: string, driver: Driver, opts: { redisDb?: number } = {}) {
  describe(`chat events (${name})`, () => {
    let rt: TestRuntime;
    let dataDir: string;
    const sockets: TestSocket[] = [];
    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "huddle-events-"));
      rt = await buildTestRuntime(driver, {
        redisDb: opts.redisDb, listen: true,
        config: { DATA_DIR: dataDir, MESSAGE_EDIT_WINDOW_SEC: String(EDIT_WINDOW_SEC), FILE_WORKER_CONCURRENCY: "1" },
      });
    }, 30_000);
    afterAll(async () => {
      for (const s of sockets) s.close();
      await rt?.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const api = (method: string, path: string, token?: string, body?: unknown) => call(rt.app, method, path, { token, body });
    const connect = async (u: User) => {
      const s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${u.access_token}`);
      sockets.push(s);
      await s.next((f) => f.type === "ready");
      return s;
    };
    const send = async (u: User, target: { to?: string; conversation_id?: string }, content: string) => {
      const r = await api("POST", "/chat/send", u.access_token, { ...target, content });
      expect(r.status).toBe(201);
      return r.json.message as ChatMessage;
    };
    const history = async (u: User, cid: string) => {
      const h = await api("GET", `/chat/history?conversation_id=${cid}&limit=100`, u.access_token);
      expect(h.status).toBe(200);
      return h.json.messages as ChatMessage[];
    };
    /** The rows PostgreSQL holds, once the persister has written up to `seq`. */
    const rows = async (cid: string, seq: number) => {
      for (let i = 0; i < 200; i++) {
        const r = rowsOf(await rt.database.db.execute(sql`select id::text, seq::int, content, message_type, ref_id::text, edited_at, deleted_at from messages where conversation_id = ${cid} order by seq`));
        if (r.length && Number(r.at(-1)!.seq) >= seq) return r as { id: string; seq: number; content: string; message_type: string; ref_id: string | null; edited_at: unknown; deleted_at: unknown }[];
        await Bun.sleep(25);
      }
      throw new Error(`persister did not reach seq ${seq}`);
    };
    const pair = async () => {
      const a = await registerUser(rt.app, "ea");
      const b = await registerUser(rt.app, "eb");
      const first = await send(a, { to: b.user.id }, "hello");
      return { a, b, cid: first.conversation_id, first };
    };

    test("edit: the sender's message keeps its seq and reads as edited, in Redis, in PostgreSQL and live", async () => {
      const { a, b, cid, first } = await pair();
      const sb = await connect(b);
      const edit = await api("PATCH", `/chat/messages/${first.id}`, a.access_token, { content: "  hello, fixed  " });
      expect(edit.status).toBe(200);
      expect(edit.json.message).toMatchObject({ id: first.id, seq: 1, content: "hello, fixed", is_edited: true });
      expect(typeof edit.json.message.edited_at).toBe("string");
      // The edit is the next entry of the log, live on the other member's socket.
      const live = await sb.next((f) => f.type === "message" && f.message.message_type === "edit");
      expect(live.message).toMatchObject({ seq: 2, ref_id: first.id, ref_seq: 1, content: "hello, fixed", sender_id: a.user.id });
      const h = await history(b, cid);
      expect(h.map((m) => [m.seq, m.message_type, m.content])).toEqual([[1, "text", "hello, fixed"], [2, "edit", "hello, fixed"]]);
      expect(h[0]!.is_edited).toBe(true);
      const stored = await rows(cid, 2);
      expect(stored[0]).toMatchObject({ content: "hello, fixed", message_type: "text" });
      expect(stored[0]!.edited_at).not.toBeNull();
      expect(stored[1]).toMatchObject({ message_type: "edit", ref_id: first.id });
      // Others may not edit it; strangers do not learn it exists; bad input is a 400.
      expect((await api("PATCH", `/chat/messages/${first.id}`, b.access_token, { content: "mine now" })).status).toBe(403);
      const c = await registerUser(rt.app, "ec");
      expect((await api("PATCH", `/chat/messages/${first.id}`, c.access_token, { content: "x" })).status).toBe(404);
      expect((await api("PATCH", `/chat/messages/${Bun.randomUUIDv7()}`, a.access_token, { content: "x" })).status).toBe(404);
      expect((await api("PATCH", `/chat/messages/${first.id}`, a.access_token, { content: "   " })).status).toBe(400);
      expect((await api("PATCH", `/chat/messages/${first.id}`, a.access_token, { content: "x".repeat(4001) })).status).toBe(400);
      expect((await api("PATCH", `/chat/messages/not-a-uuid`, a.access_token, { content: "x" })).status).toBe(400);
      // An edit event itself cannot be edited.
      expect((await api("PATCH", `/chat/messages/${live.message.id}`, a.access_token, { content: "x" })).status).toBe(400);
    }, 30_000);

    test("edit: only within MESSAGE_EDIT_WINDOW_SEC", async () => {
      const { a, first } = await pair();
      await Bun.sleep(EDIT_WINDOW_SEC * 1000 + 200);
      const late = await api("PATCH", `/chat/messages/${first.id}`, a.access_token, { content: "too late" });
      expect(late.status).toBe(403);
      expect(late.json.error.message).toContain(`${EDIT_WINDOW_SEC} s`);
    }, 30_000);

    test("delete: a tombstone stays in order; the content leaves Redis and PostgreSQL, edits included", async () => {
      const { a, b, cid, first } = await pair();
      const secret = `secret-${Bun.randomUUIDv7()}`;
      const m = await send(a, { conversation_id: cid }, `${secret} v1`);
      expect((await api("PATCH", `/chat/messages/${m.id}`, a.access_token, { content: `${secret} v2` })).status).toBe(200);
      await send(b, { conversation_id: cid }, "after");
      expect((await api("DELETE", `/chat/messages/${m.id}`, b.access_token)).status).toBe(403);
      const del = await api("DELETE", `/chat/messages/${m.id}`, a.access_token);
      expect(del.status).toBe(200);
      expect(del.json.message).toMatchObject({ id: m.id, seq: 2, content: "", deleted: true });
      const h = await history(b, cid);
      expect(h.map((x) => [x.seq, x.message_type, x.content, x.deleted ?? false])).toEqual([
        [1, "text", "hello", false], [2, "text", "", true], [3, "edit", "", false], [4, "text", "after", false], [5, "delete", "", false],
      ]);
      expect(h[4]).toMatchObject({ ref_id: m.id, ref_seq: 2, sender_id: a.user.id });
      expect(JSON.stringify(await rt.engine.chat.recent(cid))).not.toContain(secret);
      const stored = await rows(cid, 5);
      expect(stored.map((r) => r.content)).toEqual(["hello", "", "", "after", ""]);
      expect(stored[1]!.deleted_at).not.toBeNull();
      // Gone is gone: no second delete, no edit of a tombstone.
      expect((await api("DELETE", `/chat/messages/${m.id}`, a.access_token)).status).toBe(404);
      expect((await api("PATCH", `/chat/messages/${m.id}`, a.access_token, { content: "back" })).status).toBe(404);
      expect((await api("DELETE", `/chat/messages/${first.id}`, b.access_token)).status).toBe(403);
      // A retry of a deleted message's send gets the tombstone back, not the content.
      const once = await api("POST", "/chat/send", a.access_token, { conversation_id: cid, content: `${secret} again`, client_id: "regret-1" });
      await api("DELETE", `/chat/messages/${once.json.message.id}`, a.access_token);
      const retry = await api("POST", "/chat/send", a.access_token, { conversation_id: cid, content: `${secret} again`, client_id: "regret-1" });
      expect(retry.json.message).toMatchObject({ id: once.json.message.id, content: "", deleted: true });
      await rows(cid, 7);
      // PostgreSQL alone (Redis' list forgotten) reads the same.
      await rt.engine.chat.drop(cid);
      await rt.engine.chat.seedSeq(cid, 7);
      expect((await history(a, cid)).map((x) => x.content)).toEqual(["hello", "", "", "after", "", "", ""]);
    }, 30_000);

    test("the persister applies an edit or delete once: a replayed batch changes nothing more", async () => {
      const { a, cid, first } = await pair();
      await api("PATCH", `/chat/messages/${first.id}`, a.access_token, { content: "second" });
      await api("PATCH", `/chat/messages/${first.id}`, a.access_token, { content: "third" });
      await rows(cid, 3);
      const log = await history(a, cid);
      // The first edit's batch arrives again (a persister that died before acknowledging it).
      await rt.services.messageWriter.write([log[1]!]);
      await rt.services.messageWriter.write(log);
      let stored = await rows(cid, 3);
      expect(stored.map((r) => r.content)).toEqual(["third", "second", "third"]);
      await api("DELETE", `/chat/messages/${first.id}`, a.access_token);
      stored = await rows(cid, 4);
      const all = await history(a, cid);
      await rt.services.messageWriter.write(all);
      await rt.services.messageWriter.write([log[2]!]);
      stored = await rows(cid, 4);
      expect(stored.map((r) => r.content)).toEqual(["", "", "", ""]);
      expect(stored).toHaveLength(4);
    }, 30_000);

    test("resume after an edit and a delete replays them in order, with the messages as they read now", async () => {
      const { a, b, cid, first } = await pair();
      const m2 = await send(b, { conversation_id: cid }, "two");
      await api("PATCH", `/chat/messages/${first.id}`, a.access_token, { content: "one, edited" });
      await api("DELETE", `/chat/messages/${m2.id}`, b.access_token);
      const sb = await connect(b);
      sb.send({ type: "resume", conversation_id: cid, after_seq: 0 });
      await sb.next((f) => f.type === "message" && f.resumed && f.message.seq === 4);
      const replay = sb.frames.filter((f) => f.type === "message" && f.resumed).map((f) => f.message);
      expect(replay.map((x: ChatMessage) => [x.seq, x.message_type, x.content])).toEqual([
        [1, "text", "one, edited"], [2, "text", ""], [3, "edit", "one, edited"], [4, "delete", ""],
      ]);
      expect(replay[3].ref_id).toBe(m2.id);
      // From PostgreSQL too (after 2: the client had the first two).
      await rows(cid, 4);
      await rt.engine.chat.drop(cid);
      await rt.engine.chat.seedSeq(cid, 4);
      const before = sb.frames.length;
      sb.send({ type: "resume", conversation_id: cid, after_seq: 2 });
      await sb.next((f) => sb.frames.indexOf(f) >= before && f.type === "message" && f.resumed && f.message.seq === 4);
      const again = sb.frames.slice(before).filter((f) => f.type === "message" && f.resumed).map((f) => f.message);
      expect(again.map((x: ChatMessage) => [x.seq, x.message_type, x.content, x.ref_id])).toEqual([[3, "edit", "one, edited", first.id], [4, "delete", "", m2.id]]);
    }, 30_000);

    test("a room's owner and admins delete anyone's message; a deleted attachment is no longer served", async () => {
      const owner = await registerUser(rt.app, "eo");
      const bob = await registerUser(rt.app, "eb");
      const room = (await api("POST", "/rooms", owner.access_token, { name: "mod", members: [bob.user.id] })).json.id;
      const form = new FormData();
      form.set("conversation_id", room);
      form.set("file", new File(["notes of bob\n"], "notes.txt", { type: "text/plain" }));
      const up = await rt.app.handle(new Request("http://localhost/files/upload", { method: "POST", headers: { authorization: `Bearer ${bob.access_token}` }, body: form }));
      expect(up.status).toBe(202);
      const fileId = ((await up.json()) as { file_id: string }).file_id;
      let fileMsg: ChatMessage | undefined;
      for (let i = 0; i < 400 && !fileMsg; i++) {
        fileMsg = (await history(owner, room)).find((m) => m.message_type === "file");
        if (!fileMsg) await Bun.sleep(25);
      }
      expect(fileMsg).toBeDefined();
      expect((await api("GET", `/files/${fileId}`, owner.access_token)).status).toBe(200);
      const text = await send(bob, { conversation_id: room }, "rude words");
      expect((await api("DELETE", `/chat/messages/${text.id}`, owner.access_token)).status).toBe(200);
      expect((await api("DELETE", `/chat/messages/${fileMsg!.id}`, owner.access_token)).status).toBe(200);
      expect((await api("GET", `/files/${fileId}`, bob.access_token)).status).toBe(404);
      expect((await api("GET", `/files/${fileId}/thumbnail`, bob.access_token)).status).toBe(404);
      // A member may not delete the owner's message, nor a system line.
      const own = await send(owner, { conversation_id: room }, "house rules");
      expect((await api("DELETE", `/chat/messages/${own.id}`, bob.access_token)).status).toBe(403);
      const created = (await history(bob, room)).find((m) => m.system?.kind === "room_created")!;
      expect((await api("DELETE", `/chat/messages/${created.id}`, bob.access_token)).status).toBe(403);
    }, 30_000);

    test("system lines: created, joined, added, role changed, renamed, removed, left; in history and live", async () => {
      const owner = await registerUser(rt.app, "so");
      const [ann, ben, cat] = [await registerUser(rt.app, "sa"), await registerUser(rt.app, "sb"), await registerUser(rt.app, "sc")];
      const room = (await api("POST", "/rooms", owner.access_token, { name: "plaza" })).json.id;
      const so = await connect(owner);
      expect((await api("POST", `/rooms/${room}/join`, ann.access_token)).status).toBe(200);
      expect((await api("POST", `/rooms/${room}/members`, owner.access_token, { user_ids: [ben.user.id, cat.user.id] })).status).toBe(200);
      expect((await api("PATCH", `/rooms/${room}/members/${ann.user.id}`, owner.access_token, { role: "admin" })).status).toBe(200);
      const renamed = await api("PATCH", `/rooms/${room}`, ann.access_token, { name: "square", description: "now with a fountain" });
      expect(renamed.json).toMatchObject({ name: "square", description: "now with a fountain" });
      expect((await api("DELETE", `/rooms/${room}/members/${ben.user.id}`, ann.access_token)).status).toBe(200);
      expect((await api("POST", `/rooms/${room}/leave`, cat.access_token)).status).toBe(200);
      const h = await history(owner, room);
      expect(h.every((m) => m.message_type === "system")).toBe(true);
      expect(h.map((m) => [m.system!.kind, m.system!.actor_id, m.system!.target_id])).toEqual([
        ["room_created", owner.user.id, null],
        ["joined", ann.user.id, ann.user.id],
        ["joined", owner.user.id, ben.user.id],
        ["joined", owner.user.id, cat.user.id],
        ["role_changed", owner.user.id, ann.user.id],
        ["room_renamed", ann.user.id, null],
        ["removed", ann.user.id, ben.user.id],
        ["left", cat.user.id, cat.user.id],
      ]);
      expect(h[4]!.system!.role).toBe("admin");
      expect(h[5]!.system!.name).toBe("square");
      await so.next((f) => f.type === "message" && f.message.system?.kind === "left");
      // PostgreSQL keeps the structure.
      await rows(room, 8);
      const stored = rowsOf(await rt.database.db.execute(sql`select message_type, system from messages where conversation_id = ${room} order by seq`));
      expect(stored.map((r) => [r.message_type, (r.system as { kind: string }).kind])).toEqual(h.map((m) => ["system", m.system!.kind]));
    }, 30_000);

    test("room administration: who may do what", async () => {
      const owner = await registerUser(rt.app, "ro");
      const [adm, mem, other] = [await registerUser(rt.app, "ra"), await registerUser(rt.app, "rm"), await registerUser(rt.app, "rx")];
      const room = (await api("POST", "/rooms", owner.access_token, { name: "admin", is_private: true, members: [mem.user.id, other.user.id] })).json.id;
      await api("POST", `/rooms/${room}/members`, owner.access_token, { user_ids: [adm.user.id], role: "admin" });
      expect((await api("PATCH", `/rooms/${room}`, mem.access_token, { name: "mine" })).status).toBe(403);
      expect((await api("PATCH", `/rooms/${room}`, owner.access_token, {})).status).toBe(400);
      expect((await api("PATCH", `/rooms/${room}/members/${mem.user.id}`, adm.access_token, { role: "admin" })).status).toBe(403);
      expect((await api("DELETE", `/rooms/${room}/members/${owner.user.id}`, adm.access_token)).status).toBe(403);
      expect((await api("DELETE", `/rooms/${room}/members/${adm.user.id}`, mem.access_token)).status).toBe(403);
      expect((await api("DELETE", `/rooms/${room}/members/${adm.user.id}`, adm.access_token)).status).toBe(400);
      expect((await api("DELETE", `/rooms/${room}/members/${Bun.randomUUIDv7()}`, adm.access_token)).status).toBe(404);
      expect((await api("DELETE", `/rooms/${room}`, adm.access_token)).status).toBe(403);
      // Ownership moves: the old owner becomes an admin and can no longer delete the room.
      const handed = await api("PATCH", `/rooms/${room}/members/${adm.user.id}`, owner.access_token, { role: "owner" });
      expect(handed.status).toBe(200);
      expect(handed.json.owner_id).toBe(adm.user.id);
      expect(handed.json.members.find((m: { user_id: string }) => m.user_id === owner.user.id).role).toBe("admin");
      expect((await api("DELETE", `/rooms/${room}`, owner.access_token)).status).toBe(403);
      // A demoted admin loses the power at once.
      expect((await api("PATCH", `/rooms/${room}/members/${owner.user.id}`, adm.access_token, { role: "member" })).status).toBe(200);
      expect((await api("DELETE", `/rooms/${room}/members/${mem.user.id}`, owner.access_token)).status).toBe(403);
      expect((await api("DELETE", `/rooms/${room}/members/${mem.user.id}`, adm.access_token)).status).toBe(200);
      expect((await api("GET", `/rooms/${room}/messages`, mem.access_token)).status).toBe(404);
      expect((await api("POST", "/chat/send", mem.access_token, { conversation_id: room, content: "still here?" })).status).toBe(404);
    }, 30_000);

    test("a removed member's socket stops receiving the room at once; deleting a room tells every member", async () => {
      const owner = await registerUser(rt.app, "do");
      const [mem, stay] = [await registerUser(rt.app, "dm"), await registerUser(rt.app, "ds")];
      const room = (await api("POST", "/rooms", owner.access_token, { name: "doomed", members: [mem.user.id, stay.user.id] })).json.id;
      const sm = await connect(mem);
      const ss = await connect(stay);
      await send(owner, { conversation_id: room }, "before");
      await sm.next((f) => f.type === "message" && f.message.content === "before");
      expect((await api("DELETE", `/rooms/${room}/members/${mem.user.id}`, owner.access_token)).status).toBe(200);
      const left = await sm.next((f) => f.type === "conversation.left");
      expect(left).toMatchObject({ conversation_id: room, reason: "removed" });
      await send(owner, { conversation_id: room }, "after");
      await ss.next((f) => f.type === "message" && f.message.content === "after");
      expect(sm.frames.some((f) => f.type === "message" && f.message.content === "after")).toBe(false);

      expect((await api("DELETE", `/rooms/${room}`, owner.access_token)).status).toBe(200);
      expect(await ss.next((f) => f.type === "conversation.left")).toMatchObject({ conversation_id: room, reason: "deleted" });
      expect((await api("GET", `/rooms/${room}`, owner.access_token)).status).toBe(404);
      expect((await api("GET", `/chat/history?conversation_id=${room}`, owner.access_token)).status).toBe(404);
      expect((await api("GET", "/rooms", stay.access_token)).json.rooms.map((r: { id: string }) => r.id)).not.toContain(room);
      expect(rowsOf(await rt.database.db.execute(sql`select 1 from messages where conversation_id = ${room}`))).toHaveLength(0);
      expect(await rt.engine.chat.recent(room)).toBeNull();
    }, 30_000);

    test("clear my history: hidden for me only, in history, unread and resume; new messages show", async () => {
      const { a, b, cid } = await pair();
      await send(b, { conversation_id: cid }, "two");
      await send(b, { conversation_id: cid }, "three");
      const cleared = await api("DELETE", `/chat/conversations/${cid}/history`, a.access_token);
      expect(cleared.json).toEqual({ conversation_id: cid, cleared_seq: 3 });
      const h = await api("GET", `/chat/history?conversation_id=${cid}`, a.access_token);
      expect(h.json).toEqual({ conversation_id: cid, messages: [], has_more: false });
      expect((await history(b, cid)).map((m) => m.content)).toEqual(["hello", "two", "three"]);
      await send(b, { conversation_id: cid }, "four");
      await rows(cid, 4);
      const mine = await api("GET", `/chat/history?conversation_id=${cid}`, a.access_token);
      expect(mine.json.messages.map((m: ChatMessage) => m.content)).toEqual(["four"]);
      expect(mine.json.has_more).toBe(false);
      const entry = (await api("GET", "/chat/conversations", a.access_token)).json.conversations.find((c: { id: string }) => c.id === cid);
      expect(entry).toMatchObject({ unread: 1, last_message: { content: "four" } });
      const sa = await connect(a);
      sa.send({ type: "resume", conversation_id: cid, after_seq: 0 });
      await sa.next((f) => f.type === "message" && f.resumed && f.message.seq === 4);
      expect(sa.frames.filter((f) => f.type === "message" && f.resumed).map((f) => f.message.seq)).toEqual([4]);
      // Cleared messages cannot be edited or deleted by the one who cleared them.
      const mine1 = (await history(b, cid))[0]!;
      expect((await api("DELETE", `/chat/messages/${mine1.id}`, a.access_token)).status).toBe(404);
      expect((await api("DELETE", `/chat/conversations/${Bun.randomUUIDv7()}/history`, a.access_token)).status).toBe(404);
    }, 30_000);

    test("leaving a direct conversation hides it from my list until a new message arrives", async () => {
      const { a, b, cid } = await pair();
      await rows(cid, 1);
      const listed = async () => (await api("GET", "/chat/conversations", a.access_token)).json.conversations.map((c: { id: string }) => c.id);
      expect(await listed()).toContain(cid);
      expect((await api("DELETE", `/chat/conversations/${cid}`, a.access_token)).json).toEqual({ conversation_id: cid, hidden: true });
      expect(await listed()).not.toContain(cid);
      expect((await api("GET", "/chat/conversations", b.access_token)).json.conversations.map((c: { id: string }) => c.id)).toContain(cid);
      await send(b, { conversation_id: cid }, "are you there?");
      await rows(cid, 2);
      expect(await listed()).toContain(cid);
      const room = (await api("POST", "/rooms", a.access_token, { name: "not direct" })).json.id;
      expect((await api("DELETE", `/chat/conversations/${room}`, a.access_token)).status).toBe(400);
    }, 30_000);

    test("search: my conversations only, after my cleared mark, without deleted messages; snippets are safe HTML; paged", async () => {
      const { a, b, cid, first } = await pair();
      const c = await registerUser(rt.app, "sx");
      const word = `zebra${Date.now().toString(36)}`;
      const old = await send(a, { conversation_id: cid }, `an old ${word} story`);
      const gone = await send(b, { conversation_id: cid }, `a ${word} to delete`);
      await send(a, { conversation_id: cid }, `<b>${word}</b> & friends`);
      const other = await send(c, { to: b.user.id }, `${word} elsewhere`);
      await rows(cid, 4);
      await rows(other.conversation_id, 1);
      const find = async (u: User, q: string, extra = "") => {
        const r = await api("GET", `/chat/search?q=${encodeURIComponent(q)}${extra}`, u.access_token);
        expect(r.status).toBe(200);
        return r.json as { results: { conversation_id: string; message: ChatMessage; snippet: string }[]; next_before: string | null };
      };
      expect((await find(a, word)).results.map((r) => r.message.content)).toEqual([`<b>${word}</b> & friends`, `a ${word} to delete`, `an old ${word} story`]);
      const top = (await find(a, word)).results[0]!;
      // Escaped before marking: whatever was written, the only tags are the marks.
      expect(top.snippet).toContain(`<mark>${word}</mark>&lt;/b&gt; &amp; friends`);
      expect(top.snippet.replaceAll("<mark>", "").replaceAll("</mark>", "")).not.toMatch(/[<>]/);
      expect((await find(b, word)).results).toHaveLength(4);
      expect((await find(b, word, `&conversation_id=${cid}`)).results).toHaveLength(3);
      expect((await find(c, word)).results.map((r) => r.message.id)).toEqual([other.id]);
      // Paged, newest first.
      const p1 = await find(a, word, "&limit=2");
      expect(p1.results).toHaveLength(2);
      const p2 = await find(a, word, `&limit=2&before=${p1.next_before}`);
      expect(p2.results.map((r) => r.message.id)).toEqual([old.id]);
      expect(p2.next_before).toBeNull();
      // Deleted: gone from everyone's results. Cleared: gone from mine only. Edited: found by the new words.
      await api("DELETE", `/chat/messages/${gone.id}`, b.access_token);
      await api("PATCH", `/chat/messages/${first.id}`, a.access_token, { content: `hello ${word}` });
      await rows(cid, 6);
      expect((await find(b, word, `&conversation_id=${cid}`)).results.map((r) => r.message.id)).not.toContain(gone.id);
      expect((await find(b, word, `&conversation_id=${cid}`)).results.map((r) => r.message.id)).toContain(first.id);
      await api("DELETE", `/chat/conversations/${cid}/history`, a.access_token);
      expect((await find(a, word)).results).toEqual([]);
      expect((await find(b, word)).results.length).toBeGreaterThan(0);
      expect((await api("GET", "/chat/search?q=%20", a.access_token)).status).toBe(400);
      expect((await api("GET", "/chat/search", a.access_token)).status).toBe(400);
      expect((await api("GET", `/chat/search?q=${encodeURIComponent("\"unbalanced -")}`, a.access_token)).status).toBe(200);
    }, 30_000);
  });
}
