/**
 * What the status matrix cannot see: the content of lists and the live event
 * stream. Nobody lists a conversation, room or submission that is not theirs,
 * profiles never carry another user's email, logout cannot revoke someone
 * else's session, and a socket of user B never receives A's direct messages,
 * problem results, or typing in a conversation B is not in, however B asks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call } from "../helpers/app";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../helpers/runtime";
import { buildFixture, PROBLEM_ID, signJwt, now, type Fixture } from "./fixture";

describe("data isolation between users (HTTP lists and live sockets)", () => {
  let rt: TestRuntime;
  let f: Fixture;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", { listen: true });
    f = await buildFixture(rt.app, rt.database);
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await rt?.close();
  });

  const connect = async (token: string) => {
    const s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${token}`);
    sockets.push(s);
    await s.next((x) => x.type === "ready");
    return s;
  };
  const get = async (token: string, path: string) => (await call(rt.app, "GET", path, { token })).json;
  /** Negative checks need a moment for anything misrouted to arrive. */
  const settle = () => Bun.sleep(300);

  test("conversation lists hold only the caller's conversations", async () => {
    const ids = async (token: string) => (await get(token, "/chat/conversations")).conversations.map((c: { id: string }) => c.id).sort();
    expect(await ids(f.outsider.access_token)).toEqual([]);
    expect(await ids(f.member.access_token)).toEqual([f.room, f.direct].sort());
    expect(await ids(f.admin.access_token)).toEqual([f.room]);
    expect(await ids(f.owner.access_token)).toEqual([f.room, f.publicRoom, f.direct].sort());
  }, 15_000);

  test("room lists and search never show a private room to a non-member", async () => {
    const rooms = await get(f.outsider.access_token, "/rooms?search=secret");
    expect(rooms.rooms).toEqual([]);
    const all = (await get(f.outsider.access_token, "/rooms")).rooms.map((r: { id: string }) => r.id);
    expect(all).toContain(f.publicRoom);
    expect(all).not.toContain(f.room);
    expect((await get(f.member.access_token, "/rooms")).rooms.map((r: { id: string }) => r.id)).toContain(f.room);
  }, 15_000);

  test("submissions and results are visible to their author only", async () => {
    for (const s of [f.outsider, f.member, f.admin]) {
      const list = await get(s.access_token, `/problems/submissions?problem_id=${PROBLEM_ID}`);
      expect(list.submissions.map((x: { job_id: string }) => x.job_id)).not.toContain(f.job);
      expect((await call(rt.app, "GET", `/problems/result/${f.job}`, { token: s.access_token })).status).toBe(404);
    }
    const mine = await get(f.owner.access_token, "/problems/submissions");
    expect(mine.submissions.map((x: { job_id: string }) => x.job_id)).toContain(f.job);
    expect(mine.submissions.every((x: { sql_query: string }) => typeof x.sql_query === "string")).toBe(true);
  }, 15_000);

  test("profiles and search results never carry another user's email", async () => {
    const one = await call(rt.app, "GET", `/users/${f.owner.user.id}`, { token: f.outsider.access_token });
    expect(one.status).toBe(200);
    expect(one.text).not.toContain("@example.com");
    const search = await call(rt.app, "GET", `/users?search=${f.owner.username}`, { token: f.outsider.access_token });
    expect(search.json.users).toHaveLength(1);
    expect(search.text).not.toContain("@example.com");
  }, 15_000);

  test("logout with another user's refresh token revokes nothing of theirs", async () => {
    const out = await call(rt.app, "POST", "/auth/logout", { token: f.outsider.access_token, body: { refresh_token: f.member.refresh_token } });
    expect(out.status).toBe(204);
    const still = await call(rt.app, "POST", "/auth/refresh", { body: { refresh_token: f.member.refresh_token } });
    expect(still.status).toBe(200);
  }, 15_000);

  test("tokens the app did not issue as access tokens are refused everywhere, even with the right key", async () => {
    const secret = rt.config.JWT_SECRET;
    const id = f.owner.user.id;
    const variants = {
      "refresh-typed": signJwt(secret, { sub: id, typ: "refresh", exp: now() + 600 }),
      "no typ": signJwt(secret, { sub: id, exp: now() + 600 }),
      "no exp": signJwt(secret, { sub: id, typ: "access" }),
      "numeric sub": signJwt(secret, { sub: 42, typ: "access", exp: now() + 600 }),
      "HS512 header": signJwt(secret, { sub: id, typ: "access", exp: now() + 600 }, { alg: "HS512", typ: "JWT" }),
      "payload swapped": (() => {
        const [h, , sig] = f.owner.access_token.split(".");
        const body = Buffer.from(JSON.stringify({ sub: f.member.user.id, typ: "access", exp: now() + 600 })).toString("base64url");
        return `${h}.${body}.${sig}`;
      })(),
    };
    for (const [name, token] of Object.entries(variants)) {
      const res = await call(rt.app, "GET", "/users/me", { token });
      expect(`${name}: ${res.status}`).toBe(`${name}: 401`);
      await expect(TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${token}`)).rejects.toThrow();
    }
  }, 15_000);

  test("a socket never receives direct messages, typing or read markers of a conversation it is not in", async () => {
    const owner = await connect(f.owner.access_token);
    const member = await connect(f.member.access_token);
    const admin = await connect(f.admin.access_token);
    const outsider = await connect(f.outsider.access_token);
    // The outsider asks for D every way the protocol allows: each is refused with 404 and subscribes to nothing.
    outsider.send({ type: "resume", conversation_id: f.direct, after_seq: 0 });
    outsider.send({ type: "typing", conversation_id: f.direct });
    outsider.send({ type: "read", conversation_id: f.direct, seq: 1 });
    outsider.send({ type: "send", conversation_id: f.direct, content: "let me in", client_id: "sneak" });
    outsider.send({ type: "ping", id: "done" });
    await outsider.next((x) => x.type === "pong" && x.id === "done");
    const refusals = outsider.frames.filter((x) => x.type === "error");
    expect(refusals.map((x) => x.status)).toEqual([404, 404, 404, 404]);

    await call(rt.app, "POST", "/chat/send", { token: f.owner.access_token, body: { conversation_id: f.direct, content: "secret DM" } });
    owner.send({ type: "typing", conversation_id: f.direct });
    await member.next((x) => x.type === "message" && x.message.content === "secret DM");
    await member.next((x) => x.type === "typing" && x.conversation_id === f.direct);
    // The member reads it (a sender's own message already moved the owner's marker, so only the reader's read publishes).
    member.send({ type: "read", conversation_id: f.direct, seq: 2 });
    await owner.next((x) => x.type === "read" && x.conversation_id === f.direct);
    await settle();
    for (const s of [admin, outsider]) {
      const leaked = s.frames.filter((x) => (x.conversation_id ?? x.message?.conversation_id) === f.direct || x.message?.content === "secret DM");
      expect(leaked).toEqual([]);
    }
    // Typing frames carry the typist (clients skip their own): whatever reaches the owner is the owner's own.
    expect(owner.frames.filter((x) => x.type === "typing" && x.user_id !== f.owner.user.id)).toEqual([]);
  }, 20_000);

  test("problem.result reaches only the submitter's sockets", async () => {
    const owner = await connect(f.owner.access_token);
    const outsider = await connect(f.outsider.access_token);
    const member = await connect(f.member.access_token);
    const sub = await call(rt.app, "POST", "/problems/submit", { token: f.owner.access_token, body: { problem_id: PROBLEM_ID, sql_query: "select 2" } });
    expect(sub.status).toBe(202);
    // The judge is off in this runtime: finish the job the way the reaper does, through the real publish path.
    await rt.services.submissions.giveUp({ id: sub.json.job_id });
    const result = await owner.next((x) => x.type === "problem.result" && x.job_id === sub.json.job_id);
    expect(result.status).toBe("failed");
    await settle();
    for (const s of [outsider, member]) expect(s.frames.filter((x) => x.type === "problem.result")).toEqual([]);
  }, 20_000);

  test("leaving a room stops its live events at once", async () => {
    const room = await call(rt.app, "POST", "/rooms", { token: f.owner.access_token, body: { name: "temp", is_private: true, members: [f.outsider.user.id] } });
    const outsider = await connect(f.outsider.access_token);
    await call(rt.app, "POST", "/chat/send", { token: f.owner.access_token, body: { conversation_id: room.json.id, content: "before" } });
    await outsider.next((x) => x.type === "message" && x.message.content === "before");
    expect((await call(rt.app, "POST", `/rooms/${room.json.id}/leave`, { token: f.outsider.access_token })).status).toBe(200);
    await settle();
    await call(rt.app, "POST", "/chat/send", { token: f.owner.access_token, body: { conversation_id: room.json.id, content: "after" } });
    await settle();
    expect(outsider.frames.filter((x) => x.message?.content === "after")).toEqual([]);
    expect((await call(rt.app, "GET", `/chat/history?conversation_id=${room.json.id}`, { token: f.outsider.access_token })).status).toBe(404);
  }, 20_000);
});
