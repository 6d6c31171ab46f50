/**
 * The chat WebSocket with a real client against a listening server
 * (PGlite + memory engine; the Redis variants live in the cross-instance test).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, registerUser } from "../../helpers/app";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../../helpers/runtime";
import { TokenService } from "../../../src/modules/auth/tokens";

describe("chat WebSocket", () => {
  let rt: TestRuntime;
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", { listen: true });
  }, 30_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await rt?.close();
  });
  const connect = async (token: string) => {
    const s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${token}`);
    sockets.push(s);
    await s.next((f) => f.type === "ready");
    return s;
  };

  test("ready, live messages, own reply once, typing carries the typist", async () => {
    const a = await registerUser(rt.app);
    const b = await registerUser(rt.app);
    const first = await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { to: b.user.id, content: "hello" } });
    const cid = first.json.message.conversation_id;
    const sa = await connect(a.access_token);
    const sb = await connect(b.access_token);
    const ready = sb.frames.find((f) => f.type === "ready");
    expect(ready.user_id).toBe(b.user.id);
    expect(ready.conversations.map((c: { conversation_id: string }) => c.conversation_id)).toContain(cid);

    sa.send({ type: "send", conversation_id: cid, content: "over the socket", client_id: "ws-1" });
    const reply = await sa.next((f) => f.type === "message" && f.client_id === "ws-1");
    expect(reply.message.seq).toBe(2);
    const got = await sb.next((f) => f.type === "message" && f.message.content === "over the socket");
    expect(got.message.sender_id).toBe(a.user.id);

    sb.send({ type: "typing", conversation_id: cid });
    const typing = await sa.next((f) => f.type === "typing");
    expect(typing.user_id).toBe(b.user.id);
    // The typist's own copy (if any) carries its user_id, which clients skip (src/web/chat/client.ts).
    await Bun.sleep(100);
    expect(sb.frames.filter((f) => f.type === "typing").map((f) => f.user_id)).not.toContain(a.user.id);
    expect(sb.frames.filter((f) => f.type === "typing").every((f) => f.user_id === b.user.id)).toBe(true);
    // The sender's own message arrives once: as the reply, not again from the broker.
    expect(sa.frames.filter((f) => f.type === "message" && f.message.seq === 2)).toHaveLength(1);
  }, 30_000);

  test("native fan-out: the sending socket gets its message once, the sender's other socket and the peer once each; after a resume every seq arrives once, in order", async () => {
    const a = await registerUser(rt.app);
    const b = await registerUser(rt.app);
    const first = await call(rt.app, "POST", "/chat/send", { token: b.access_token, body: { to: a.user.id, content: "m1" } });
    const cid = first.json.message.conversation_id;
    const [sa1, sa2, sb] = [await connect(a.access_token), await connect(a.access_token), await connect(b.access_token)];
    for (let i = 0; i < 5; i++) sa1.send({ type: "send", conversation_id: cid, content: `w${i}`, client_id: `w${i}` });
    // sa2 resumes while live messages keep coming: its replay and the live frames must not overlap or skip.
    sa2.send({ type: "resume", conversation_id: cid, after_seq: 0 });
    for (let i = 0; i < 5; i++) await call(rt.app, "POST", "/chat/send", { token: b.access_token, body: { conversation_id: cid, content: `h${i}` } });
    const last = 11;
    for (const s of [sa1, sa2, sb]) await s.next((f) => f.type === "message" && f.message.seq === last);
    sb.send({ type: "ping", id: "flush" });
    await sb.next((f) => f.type === "pong");
    await Bun.sleep(100); // room for duplicates to show up
    const seqsOf = (s: TestSocket) => s.frames.filter((f) => f.type === "message").map((f) => f.message.seq as number);
    expect(seqsOf(sa1)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2)); // its 5 replies, each once, and b's 5
    expect(sa1.frames.filter((f) => f.type === "message" && f.client_id).map((f) => f.client_id)).toEqual(["w0", "w1", "w2", "w3", "w4"]);
    expect(seqsOf(sb)).toEqual(Array.from({ length: 10 }, (_, i) => i + 2));
    // sa2: whatever it had live before the resume, then seq 1.. once each and in order from the replay on.
    const afterResume = sa2.frames.slice(sa2.frames.findIndex((f) => f.resumed)).filter((f) => f.type === "message").map((f) => f.message.seq);
    expect(afterResume).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  }, 30_000);

  test("a conversation created after connecting is followed automatically", async () => {
    const a = await registerUser(rt.app);
    const b = await registerUser(rt.app);
    const sb = await connect(b.access_token);
    await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { to: b.user.id, content: "first ever" } });
    await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { to: b.user.id, content: "second" } });
    const got = await sb.next((f) => f.type === "message" && f.message.content === "second");
    expect(got.message.seq).toBe(2);
  }, 30_000);

  test("resume replays every missed message in order; read markers fan out", async () => {
    const a = await registerUser(rt.app);
    const b = await registerUser(rt.app);
    let cid = "";
    for (let i = 1; i <= 70; i++) {
      const r = await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { to: b.user.id, content: `n${i}` } });
      cid = r.json.message.conversation_id;
    }
    const sb = await connect(b.access_token);
    const sa = await connect(a.access_token);
    sb.send({ type: "resume", conversation_id: cid, after_seq: 5 });
    await sb.next((f) => f.type === "message" && f.message.seq === 70);
    const replayed = sb.frames.filter((f) => f.type === "message" && f.resumed).map((f) => f.message.seq);
    expect(replayed).toEqual(Array.from({ length: 65 }, (_, i) => i + 6));
    sb.send({ type: "read", conversation_id: cid, seq: 70 });
    const read = await sa.next((f) => f.type === "read");
    expect(read).toEqual({ type: "read", conversation_id: cid, user_id: b.user.id, seq: 70 });
  }, 30_000);

  test("bad frames get an error frame and the socket stays open", async () => {
    const a = await registerUser(rt.app);
    const s = await connect(a.access_token);
    s.send("{not json");
    expect((await s.next((f) => f.type === "error" && f.code === "invalid_json")).status).toBe(400);
    s.send({ type: "launch_missiles" });
    expect((await s.next((f) => f.type === "error" && f.code === "invalid_frame")).message).toContain("expected one of");
    s.send({ type: "send", conversation_id: Bun.randomUUIDv7(), content: "nobody", client_id: "x1" });
    const notMember = await s.next((f) => f.type === "error" && f.ref === "x1");
    expect(notMember.status).toBe(404);
    s.send({ type: "ping", id: 7 });
    expect((await s.next((f) => f.type === "pong")).id).toBe(7);
    expect(s.closed).toBeNull();
  }, 30_000);

  test("auth: missing or forged token is refused before the upgrade; protocol header works; expiry closes 4001", async () => {
    const a = await registerUser(rt.app);
    const noToken = await fetch(`${rt.base}/chat/subscribe`, { headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } });
    expect(noToken.status).toBe(401);
    await expect(TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=forged.token.here`)).rejects.toThrow();
    const viaProtocol = await TestSocket.connect(`${rt.wsBase}/chat/subscribe`, ["bearer", a.access_token]);
    sockets.push(viaProtocol);
    expect(viaProtocol.ws.protocol).toBe("bearer");
    await viaProtocol.next((f) => f.type === "ready");
    const shortLived = await new TokenService(rt.config.JWT_SECRET, 1, 60).signAccess(a.user.id);
    const s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${shortLived}`);
    const closed = await s.waitClose(3000);
    expect(closed.code).toBe(4001);
    expect(closed.reason).toContain("expired");
  }, 30_000);

  test("the conversation subscription exists only while a local socket follows it", async () => {
    const a = await registerUser(rt.app);
    const b = await registerUser(rt.app);
    const r = await call(rt.app, "POST", "/chat/send", { token: a.access_token, body: { to: b.user.id, content: "x" } });
    const channel = `chat:${r.json.message.conversation_id}`;
    expect(rt.engine.broker.channels()).not.toContain(channel);
    const s = await connect(a.access_token);
    for (let i = 0; i < 50 && !rt.engine.broker.channels().includes(channel); i++) await Bun.sleep(10);
    expect(rt.engine.broker.channels()).toContain(channel);
    s.close();
    await s.waitClose();
    for (let i = 0; i < 100 && rt.engine.broker.channels().includes(channel); i++) await Bun.sleep(10);
    expect(rt.engine.broker.channels()).not.toContain(channel);
  }, 30_000);
});

describe("metrics", () => {
  test("/metrics exposes the actor tree and HTTP counters", async () => {
    const rt = await buildTestRuntime("pglite", { listen: true });
    try {
      await fetch(`${rt.base}/health`);
      await fetch(`${rt.base}/health`);
      const text = await (await fetch(`${rt.base}/metrics`)).text();
      expect(text).toContain('huddle_actor_running{actor="root/persister"} 1');
      expect(text).toContain('huddle_actor_restarts{actor="root/canary"} 0');
      expect(text).toMatch(/huddle_http_requests_total\{method="GET",route="\/health",status="200"\} \d+/);
    } finally {
      await rt.close();
    }
  }, 30_000);
});
