/**
 * Throttles on what fans out to other people's sockets or replays history
 * (PGlite + memory engine, a listening server): read markers publish only when
 * they move and are limited per user (HTTP and WS), `resume` frames, socket
 * upgrades, room creation and joins are limited per user. Refusals are 429
 * with Retry-After over HTTP, `error` frames with code `rate_limited` on a
 * socket (which stays open), and each counts in huddle_rate_limited_total.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, registerUser } from "../helpers/app";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../helpers/runtime";
import { countRows, expectErrorShape, metric } from "./fixture";

const SLOW = 0.0001; // a bucket that does not refill during a test
const bucket = (capacity: number) => ({ capacity, refillPerSec: SLOW });

describe("throttled fan-out", () => {
  let rt: TestRuntime;
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", {
      listen: true,
      buckets: { read: bucket(4), resume: bucket(2), "ws-connect": bucket(3), "room-create": bucket(2), "room-join": bucket(2) },
    });
  }, 30_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await rt?.close();
  });
  const open = async (token: string) => {
    const s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe`, ["bearer", token]);
    sockets.push(s);
    await s.next((f) => f.type === "ready");
    return s;
  };
  const limited = (scope: string) => metric(rt.app, "huddle_rate_limited_total", { scope });
  async function expect429(res: Awaited<ReturnType<typeof call>>, what: string) {
    expect(res.status, `${what}: ${res.text}`).toBe(429);
    expectErrorShape(res, what);
    expect(res.json.error.code).toBe("rate_limited");
  }
  /** A direct conversation of two fresh users with `n` messages from b. */
  async function pair(n: number) {
    const a = await registerUser(rt.app, "fa");
    const b = await registerUser(rt.app, "fb");
    let cid = "";
    for (let i = 0; i < n; i++) cid = (await call(rt.app, "POST", "/chat/send", { token: b.access_token, body: { to: a.user.id, content: `m${i}` } })).json.message.conversation_id;
    return { a, b, cid };
  }

  test("a read marker is published only when it moves; repeats answer with the stored marker and publish nothing", async () => {
    const { a, b, cid } = await pair(3);
    const watcher = await open(b.access_token);
    const read = (seq: number) => call(rt.app, "POST", "/chat/read", { token: a.access_token, body: { conversation_id: cid, seq } });
    expect((await read(2)).json.last_read_seq).toBe(2);
    expect((await watcher.next((f) => f.type === "read")).seq).toBe(2);
    for (const seq of [2, 1, 0]) expect((await read(seq)).json).toEqual({ conversation_id: cid, last_read_seq: 2 });
    // Events of one conversation arrive in order: once a later message is in, no read frame can still come.
    await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { conversation_id: cid, content: "after the repeats" } });
    await watcher.next((f) => f.type === "message" && f.message.content === "after the repeats");
    expect(watcher.frames.filter((f) => f.type === "read")).toHaveLength(1);
  }, 30_000);

  test("read markers are limited per user over HTTP and WS, with 429 / rate_limited error frames", async () => {
    const { a, b, cid } = await pair(6);
    const before = await limited("read");
    for (const seq of [1, 2, 3]) expect((await call(rt.app, "POST", "/chat/read", { token: a.access_token, body: { conversation_id: cid, seq } })).status).toBe(200);
    const s = await open(a.access_token);
    s.send({ type: "read", conversation_id: cid, seq: 4 });
    s.send({ type: "read", conversation_id: cid, seq: 5 });
    const refused = await s.next((f) => f.type === "error");
    expect(refused).toMatchObject({ code: "rate_limited", status: 429 });
    expect(refused.details.retry_after).toBeGreaterThan(0);
    await expect429(await call(rt.app, "POST", "/chat/read", { token: a.access_token, body: { conversation_id: cid, seq: 6 } }), "read over HTTP");
    s.send({ type: "ping", id: "open" });
    expect((await s.next((f) => f.type === "pong")).id).toBe("open");
    expect(await limited("read")).toBe(before + 2);
    // Another user's budget is their own.
    expect((await call(rt.app, "POST", "/chat/read", { token: b.access_token, body: { conversation_id: cid, seq: 6 } })).status).toBe(200);
  }, 30_000);

  test("resume frames are limited per user: the third gets a rate_limited error frame and replays nothing", async () => {
    const { a, cid } = await pair(2);
    const before = await limited("resume");
    const s = await open(a.access_token);
    for (let i = 0; i < 3; i++) s.send({ type: "resume", conversation_id: cid, after_seq: 0 });
    expect((await s.next((f) => f.type === "error")).code).toBe("rate_limited");
    s.send({ type: "ping", id: "after" });
    await s.next((f) => f.type === "pong");
    expect(s.frames.filter((f) => f.type === "message" && f.resumed)).toHaveLength(4);
    expect(await limited("resume")).toBe(before + 1);
  }, 30_000);

  test("socket upgrades are limited per user: past the bucket the upgrade answers 429 with Retry-After", async () => {
    const a = await registerUser(rt.app, "fu");
    const before = await limited("ws-connect");
    for (let i = 0; i < 3; i++) (await open(a.access_token)).close();
    const upgrade = await rt.app.handle(new Request(`http://localhost/chat/subscribe`, {
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", authorization: `Bearer ${a.access_token}` },
    }));
    const text = await upgrade.text();
    await expect429({ status: upgrade.status, headers: upgrade.headers, text, json: JSON.parse(text) }, "upgrade");
    await expect(TestSocket.connect(`${rt.wsBase}/chat/subscribe`, ["bearer", a.access_token])).rejects.toThrow();
    expect(await limited("ws-connect")).toBe(before + 2);
    await open((await registerUser(rt.app, "fv")).access_token);
  }, 30_000);

  test("room creation is limited per user; a refused room is not created", async () => {
    const a = await registerUser(rt.app, "fr");
    const before = await limited("room-create");
    for (const name of ["one", "two"]) expect((await call(rt.app, "POST", "/rooms", { token: a.access_token, body: { name } })).status).toBe(201);
    const rooms = await countRows(rt.database, "conversations");
    await expect429(await call(rt.app, "POST", "/rooms", { token: a.access_token, body: { name: "three" } }), "room-create");
    expect(await countRows(rt.database, "conversations")).toBe(rooms);
    expect(await limited("room-create")).toBe(before + 1);
  }, 30_000);

  test("joins and member additions are limited per acting user; a refused join adds no member", async () => {
    const owner = await registerUser(rt.app, "fo");
    const joiner = await registerUser(rt.app, "fj");
    const rooms: string[] = [];
    for (const name of ["r1", "r2"]) rooms.push((await call(rt.app, "POST", "/rooms", { token: owner.access_token, body: { name } })).json.id);
    const other = await registerUser(rt.app, "fq");
    rooms.push((await call(rt.app, "POST", "/rooms", { token: other.access_token, body: { name: "r3" } })).json.id);
    const before = await limited("room-join");
    for (const id of rooms.slice(0, 2)) expect((await call(rt.app, "POST", `/rooms/${id}/join`, { token: joiner.access_token })).status).toBe(200);
    await expect429(await call(rt.app, "POST", `/rooms/${rooms[2]}/join`, { token: joiner.access_token }), "join");
    const details = await call(rt.app, "GET", `/rooms/${rooms[2]}`, { token: other.access_token });
    expect(details.json.members.map((m: { user_id: string }) => m.user_id)).toEqual([other.user.id]);
    // Adding members spends the adder's budget.
    const add = (who: string) => call(rt.app, "POST", `/rooms/${rooms[0]}/members`, { token: owner.access_token, body: { user_ids: [who] } });
    for (const u of [other, await registerUser(rt.app, "fx")]) expect((await add(u.user.id)).status).toBe(200);
    await expect429(await add((await registerUser(rt.app, "fy")).user.id), "add members");
    expect(await limited("room-join")).toBe(before + 2);
  }, 30_000);
});
