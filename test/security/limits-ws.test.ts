/**
 * Abuse limits on the chat socket (real sockets, PGlite + memory engine):
 * sockets per user (4029), frame size (1009), send and typing rate limits
 * (429 error frames), and the per-socket queue of waiting frames. Each shows
 * in /metrics.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, registerUser } from "../helpers/app";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../helpers/runtime";
import { Connection } from "../../src/modules/chat/connection";
import { metric } from "./fixture";

const SLOW = 0.0001;

describe("abuse limits on the chat socket", () => {
  let rt: TestRuntime;
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", {
      listen: true,
      config: { MAX_SOCKETS_PER_USER: "2" },
      buckets: { send: { capacity: 2, refillPerSec: SLOW }, typing: { capacity: 1, refillPerSec: SLOW } },
    });
  }, 30_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await rt?.close();
  });
  const open = async (token: string) => {
    const s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${token}`);
    sockets.push(s);
    return s;
  };

  test("a user's third socket is closed with 4029; the first two keep working; a freed slot can be reused", async () => {
    const a = await registerUser(rt.app);
    const before = await metric(rt.app, "huddle_rate_limited_total", { scope: "sockets" });
    const one = await open(a.access_token);
    const two = await open(a.access_token);
    await one.next((f) => f.type === "ready");
    await two.next((f) => f.type === "ready");
    const three = await open(a.access_token);
    const closed = await three.waitClose();
    expect(closed.code).toBe(4029);
    expect(closed.reason).toContain("too many");
    expect(three.frames.filter((f) => f.type === "ready")).toEqual([]);
    for (const [s, id] of [[one, "one"], [two, "two"]] as const) {
      s.send({ type: "ping", id });
      expect((await s.next((f) => f.type === "pong")).id).toBe(id);
    }
    expect(await metric(rt.app, "huddle_rate_limited_total", { scope: "sockets" })).toBe(before + 1);
    // Another user is not affected by a's count.
    const b = await registerUser(rt.app);
    await (await open(b.access_token)).next((f) => f.type === "ready");
    one.close();
    await one.waitClose();
    await Bun.sleep(50);
    await (await open(a.access_token)).next((f) => f.type === "ready");
  }, 30_000);

  test("a frame above 64 KiB closes the socket with 1009 and counts as oversized", async () => {
    const a = await registerUser(rt.app);
    const before = await metric(rt.app, "huddle_ws_frames_total", { type: "oversized" });
    const s = await open(a.access_token);
    await s.next((f) => f.type === "ready");
    s.send({ type: "ping", id: "y".repeat(65 * 1024) });
    expect((await s.waitClose()).code).toBe(1009);
    for (let i = 0; i < 20 && (await metric(rt.app, "huddle_ws_frames_total", { type: "oversized" })) === before; i++) await Bun.sleep(50);
    expect(await metric(rt.app, "huddle_ws_frames_total", { type: "oversized" })).toBe(before + 1);
  }, 30_000);

  test("send and typing frames are rate limited per user with 429 error frames; the socket stays open", async () => {
    const a = await registerUser(rt.app);
    const b = await registerUser(rt.app);
    const first = await call(rt.app, "POST", "/chat/send", { token: b.access_token, body: { to: a.user.id, content: "hi" } });
    const cid = first.json.message.conversation_id;
    const before = await metric(rt.app, "huddle_rate_limited_total", { scope: "send" });
    const s = await open(a.access_token);
    await s.next((f) => f.type === "ready");
    for (const id of ["s1", "s2", "s3"]) s.send({ type: "send", conversation_id: cid, content: id, client_id: id });
    await s.next((f) => f.type === "message" && f.client_id === "s2");
    const refused = await s.next((f) => f.type === "error" && f.ref === "s3");
    expect(refused).toMatchObject({ code: "rate_limited", status: 429 });
    expect(refused.details.retry_after).toBeGreaterThan(0);
    s.send({ type: "typing", conversation_id: cid });
    s.send({ type: "typing", conversation_id: cid });
    expect((await s.next((f) => f.type === "error" && f.code === "rate_limited" && !f.ref)).status).toBe(429);
    s.send({ type: "ping", id: "still-here" });
    expect((await s.next((f) => f.type === "pong")).id).toBe("still-here");
    expect(await metric(rt.app, "huddle_rate_limited_total", { scope: "send" })).toBe(before + 1);
    const history = await call(rt.app, "GET", `/chat/history?conversation_id=${cid}`, { token: a.access_token });
    expect(history.json.messages.map((m: { content: string }) => m.content)).toEqual(["hi", "s1", "s2"]);
  }, 30_000);
});

describe("the per-socket frame queue", () => {
  test("refuses the 65th frame while 64 are waiting, and takes frames again once they finish", async () => {
    const conn = new Connection("c1", "u1", { send: () => 1, close: () => {} }, 1 << 20);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const accepted = Array.from({ length: 65 }, () => conn.enqueue(() => gate, 64));
    expect(accepted.filter(Boolean)).toHaveLength(64);
    expect(accepted[64]).toBe(false);
    release();
    await Bun.sleep(10);
    expect(conn.enqueue(async () => {}, 64)).toBe(true);
  });
});
