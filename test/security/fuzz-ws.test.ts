/**
 * Property-based fuzzing of the chat socket over a real connection: garbage
 * in every frame type must get an `error` frame (4xx, never "internal") and
 * leave the socket usable (the ping after it still gets its pong); oversized
 * frames close the socket with 1009; hostile upgrade requests are refused
 * before the upgrade. Afterwards the messages table holds exactly the
 * messages the socket acknowledged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { call } from "../helpers/app";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../helpers/runtime";
import { deepJson, encodeAll, nasty, number, text, value } from "./arbitraries";
import { describe as show, fuzz, FUZZ_RUNS, fuzzTimeout, REPLAYING } from "./replay";
import { badTokens, buildFixture, countRows, type Fixture } from "./fixture";
import { messages } from "../../src/db/schema";

const FILE = "test/security/fuzz-ws.test.ts";

type FrameCase =
  | { kind: "mutated"; type: string; mutation: "valid" | "drop" | "replace" | "extra" | "retype"; index: number; value: unknown }
  | { kind: "not-json"; text: string }
  | { kind: "json-non-object"; value: unknown }
  | { kind: "binary"; bytes: Uint8Array }
  | { kind: "deep"; json: string }
  | { kind: "nul"; type: string; index: number };

const TYPES = ["send", "typing", "read", "resume", "ping"] as const;

const frameCase: fc.Arbitrary<FrameCase> = fc.oneof(
  { arbitrary: fc.record({
    kind: fc.constant("mutated" as const), type: fc.constantFrom(...TYPES),
    mutation: fc.constantFrom("valid" as const, "drop" as const, "replace" as const, "replace" as const, "extra" as const, "retype" as const),
    index: fc.nat(), value,
  }), weight: 10 },
  { arbitrary: text.filter((t) => { try { JSON.parse(t); return false; } catch { return true; } }).map((t) => ({ kind: "not-json" as const, text: t.slice(0, 60_000) })), weight: 2 },
  { arbitrary: fc.oneof(number, text.map((t) => t.slice(0, 1000)), fc.array(value, { maxLength: 3 }), fc.constant(null), fc.boolean()).map((v) => ({ kind: "json-non-object" as const, value: v })), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: "binary" as const, bytes })), weight: 1 },
  { arbitrary: deepJson.filter((j) => j.length < 60_000).map((json) => ({ kind: "deep" as const, json })), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("nul" as const), type: fc.constantFrom(...TYPES), index: fc.nat() }), weight: 1 },
);

describe("WebSocket frame fuzzing (real socket, PGlite + memory engine)", () => {
  let rt: TestRuntime;
  let f: Fixture;
  let s: TestSocket;
  let baseMessages = 0;
  const acknowledged = new Set<string>();
  const seenTypes = new Set<string>();
  let cases = 0;

  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", { listen: true });
    f = await buildFixture(rt.app, rt.database);
    // The fixture's messages and the rooms' system lines ("created the room", "added a member") reach
    // PostgreSQL through the outbox: count them once it is empty (acknowledged only after the commit).
    for (let i = 0; i < 200 && ((await countRows(rt.database, "messages")) < 2 || (await rt.engine.outbox.pending()) > 0); i++) await Bun.sleep(50);
    baseMessages = await countRows(rt.database, "messages");
    s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${f.owner.access_token}`);
    await s.next((x) => x.type === "ready");
  }, 60_000);
  afterAll(async () => {
    s?.close();
    await rt?.close();
  });

  const sample = (type: string, n: number): Record<string, unknown> => ({
    send: { type, conversation_id: f.direct, content: `ws ${n}`, client_id: `w${n % 5}` },
    typing: { type, conversation_id: f.direct },
    read: { type, conversation_id: f.direct, seq: 1 },
    resume: { type, conversation_id: f.room, after_seq: 0 },
    ping: { type, id: n },
  }[type]!);

  /** What goes on the wire, and whether the frame is certainly invalid. */
  function build(c: FrameCase, n: number): { data: string | Uint8Array; garbage: boolean } {
    switch (c.kind) {
      case "not-json": return { data: c.text === "" ? " " : c.text, garbage: true };
      case "json-non-object": return { data: JSON.stringify(c.value), garbage: true };
      case "binary": return { data: c.bytes, garbage: true };
      case "deep": return { data: c.json, garbage: true };
      case "nul": {
        const frame = sample(c.type, n);
        const keys = Object.keys(frame).filter((k) => k !== "type");
        const k = keys[c.index % keys.length] ?? "id";
        return { data: JSON.stringify({ ...frame, [k]: `${String(frame[k] ?? "")}\u0000` }), garbage: true };
      }
      case "mutated": {
        seenTypes.add(c.type);
        const frame = sample(c.type, n);
        const keys = Object.keys(frame).filter((k) => k !== "type");
        const k = keys[c.index % Math.max(1, keys.length)] ?? "extra";
        if (c.mutation === "valid") return { data: JSON.stringify(frame), garbage: false };
        if (c.mutation === "drop") {
          delete frame[k];
          // Only ping's id and send's client_id are optional.
          return { data: JSON.stringify(frame), garbage: !(k === "id" || k === "client_id") };
        }
        if (c.mutation === "extra") return { data: JSON.stringify({ ...frame, [`x_${n}`]: c.value }), garbage: true };
        if (c.mutation === "retype") return { data: JSON.stringify({ ...frame, type: typeof c.value === "string" ? `${c.value}!` : c.value }), garbage: true };
        return { data: JSON.stringify({ ...frame, [k]: c.value }), garbage: false };
      }
    }
  }

  test("garbage in every frame type gets a 4xx error frame and the socket stays usable", async () => {
    let n = 0;
    await fuzz(fc.asyncProperty(frameCase, async (c) => {
      const k = n++;
      const { data, garbage } = build(c, k);
      // Frames above 64 KiB close the socket by design; that has its own test below.
      fc.pre((typeof data === "string" ? Buffer.byteLength(data) : data.length) < 60_000);
      const before = s.frames.length;
      s.ws.send(data);
      s.send({ type: "ping", id: `probe-${k}` });
      await s.next((x) => x.type === "pong" && x.id === `probe-${k}`, 5000);
      const answers = s.frames.slice(before);
      const context = show({ case: c, answers: answers.slice(0, 4) });
      expect(s.closed, context).toBeNull();
      const errors = answers.filter((x) => x.type === "error");
      for (const e of errors) {
        expect(e.status >= 400 && e.status < 500, context).toBe(true);
        expect(typeof e.code === "string" && typeof e.message === "string", context).toBe(true);
      }
      if (garbage) expect(errors.length, context).toBeGreaterThanOrEqual(1);
      for (const x of answers) if (x.type === "message" && !x.resumed && x.message.sender_id === f.owner.user.id) acknowledged.add(x.message.id);
      cases++;
    }), { name: "garbage in every frame type", file: FILE }, FUZZ_RUNS * 10);
    // A replay of one case (FUZZ_PATH) sees one frame type at most.
    if (!REPLAYING) expect([...seenTypes].sort()).toEqual([...TYPES].sort());
  }, fuzzTimeout(60_000));

  test("an oversized frame closes the socket with 1009; a new socket works and the server is up", async () => {
    const big = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${f.owner.access_token}`);
    await big.next((x) => x.type === "ready");
    big.send({ type: "send", conversation_id: f.direct, content: "x".repeat(70 * 1024) });
    expect((await big.waitClose(5000)).code).toBe(1009);
    const again = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${f.owner.access_token}`);
    await again.next((x) => x.type === "ready");
    again.send({ type: "ping", id: "after" });
    expect((await again.next((x) => x.type === "pong")).id).toBe("after");
    again.close();
    expect((await fetch(`${rt.base}/health`)).status).toBe(200);
  }, 30_000);

  test("hostile upgrade requests are refused before the upgrade with the error shape", async () => {
    const bad = badTokens(rt.config.JWT_SECRET, f.owner.user.id);
    const tokenArb = fc.oneof(text.map((t) => t.slice(0, 3000)), nasty, fc.constantFrom(bad.expired, bad.forged, bad.algNone, "", "a.b.c", "x".repeat(5000)));
    const where = fc.constantFrom("query", "header", "protocol");
    await fuzz(fc.asyncProperty(tokenArb, where, async (token, at) => {
      const headers: Record<string, string> = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" };
      let url = `${rt.base}/chat/subscribe`;
      if (at === "query") url += `?token=${encodeAll(token)}`;
      // Header values must be Latin-1 without control characters, or fetch itself refuses them.
      const headerSafe = encodeAll(token);
      if (at === "header") headers.authorization = `Bearer ${headerSafe}`;
      if (at === "protocol") headers["sec-websocket-protocol"] = `bearer, ${headerSafe.replace(/[^A-Za-z0-9._~-]/g, "") || "x"}`;
      const res = await fetch(url, { headers });
      const body = await res.text();
      const context = `${at} ${show(token)} -> ${res.status} ${body.slice(0, 200)}`;
      cases++;
      // Bun itself refuses request heads above its limit (431, empty body) before the app sees them.
      if (res.status === 431) return;
      expect([400, 401], context).toContain(res.status);
      expect(JSON.parse(body).error.code, context).toBeString();
    }), { name: "hostile upgrade requests", file: FILE });
  }, fuzzTimeout(60_000));

  test("after the fuzz run: the socket still answers, and PostgreSQL holds exactly the acknowledged messages", async () => {
    console.error(`fuzz: ${cases} WebSocket cases, ${acknowledged.size} messages acknowledged`);
    s.send({ type: "ping", id: "last" });
    expect((await s.next((x) => x.type === "pong" && x.id === "last")).id).toBe("last");
    expect((await call(rt.app, "GET", "/health")).status).toBe(200);
    const expected = baseMessages + acknowledged.size;
    for (let i = 0; i < 200 && (await countRows(rt.database, "messages")) < expected; i++) await Bun.sleep(50);
    const stored = await countRows(rt.database, "messages");
    if (stored !== expected) {
      // Say which rows were stored without an acknowledgement the socket saw (or the other way round).
      const rows = (await rt.database.db.select().from(messages)).map((m) => ({ id: m.id, type: m.messageType, client_id: m.clientId, content: m.content.slice(0, 60) }));
      const seen = s.frames.filter((x) => x.type === "message").map((x) => ({ id: x.message.id, resumed: x.resumed ?? false, client_id: x.client_id }));
      console.error(`stored ${stored}, expected ${expected}:`, JSON.stringify({ unacknowledged: rows.filter((r) => !acknowledged.has(r.id)), seen }));
    }
    expect(stored).toBe(expected);
  }, 30_000);
});
