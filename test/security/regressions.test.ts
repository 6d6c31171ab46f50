/**
 * Every input the fuzzers (fuzz-http.suite.ts, fuzz-ws.test.ts) ever failed
 * on, sent again by hand: these run on every `bun test` whatever the seeds, so
 * a finding stays fixed even after the generators change and its seed stops
 * producing it. How to add one: README.md here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, registerUser } from "../helpers/app";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../helpers/runtime";
import { hostileInput } from "../../src/plugins/input-guard";
import { queryString, type QueryPair } from "./arbitraries";
import { countRows, expectErrorShape } from "./fixture";

type Session = Awaited<ReturnType<typeof registerUser>>;
type People = { owner: Session; member: Session; direct: string };

/** An HTTP request as the fuzzer sent it, with a valid bearer token and a JSON body. */
type HttpFinding = { found: string; method: string; path: string; query: QueryPair[]; body: (p: People) => unknown; expect: { status: number; code: string; field: string } };
/** A socket frame as the fuzzer sent it, and the error frame the fixed server answers. */
type WsFinding = { found: string; frame: (p: People) => unknown; expect: { status: number; code: string; mentions: string } };

const LONE = "sWo&\uda89rpR";

const HTTP: HttpFinding[] = [
  {
    // {"kind":"replace","index":2147483637,...}: the password became an object with a "toString" key;
    // building the 400 stringified it, threw, and the client got a 500 (CI, clean clone).
    found: "HTTP seed 971826535 path 57 (POST /auth/login)",
    method: "POST",
    path: "/auth/login",
    query: [["\"", "\ud892\udf07\u9a02\ud996\udf72\udacb\udca6\ud851\udf9b\udb4d\ude8f\udbcc\ude14\ud954\ude7c\u35e8"], ["Q&vD", "\ud0ee"], ["X\\'S", "null"]],
    body: (p) => ({ username: p.owner.username, password: { toString: { "": 9007199254740994, h: null, "[U\"": null }, "\u200b": {} } }),
    expect: { status: 400, code: "validation_failed", field: "password" },
  },
  {
    // The WS finding below, over HTTP: the same content was accepted (201) and then lost by the persister.
    found: "HTTP twin of WS seed 1341020241 (lone surrogate in content)",
    method: "POST",
    path: "/chat/send",
    query: [],
    body: (p) => ({ conversation_id: p.direct, content: LONE, client_id: "w3" }),
    expect: { status: 400, code: "validation_failed", field: "content" },
  },
];

const WS: WsFinding[] = [
  {
    // {"kind":"mutated","type":"read","mutation":"replace","index":13,"value":"\t"}: Elysia's t.Integer took
    // the string, the handler passed it to PostgreSQL as a bigint, and the answer was a 500 error frame.
    found: "WS seed 1341020241 path 1200 (read, seq \"\\t\")",
    frame: (p) => ({ type: "read", conversation_id: p.direct, seq: "\t" }),
    expect: { status: 400, code: "invalid_frame", mentions: "invalid read frame" },
  },
  {
    // Found in the same run: acknowledged to the sender, then refused by PostgreSQL's JSON input and dropped.
    found: "WS seed 1341020241 (send with a lone surrogate, acknowledged then never persisted)",
    frame: (p) => ({ type: "send", conversation_id: p.direct, content: LONE, client_id: "w3" }),
    expect: { status: 400, code: "invalid_frame", mentions: "content" },
  },
];

describe("fuzz findings, replayed", () => {
  let rt: TestRuntime;
  let p: People;
  let socket: TestSocket;
  let messages = 0;

  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", { listen: true });
    const [owner, member] = await Promise.all([registerUser(rt.app, "rego"), registerUser(rt.app, "regm")]);
    const dm = await call(rt.app, "POST", "/chat/send", { token: owner!.access_token, body: { to: member!.user.id, content: "hello" } });
    p = { owner: owner!, member: member!, direct: dm.json.message.conversation_id };
    socket = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${p.owner.access_token}`);
    await socket.next((x) => x.type === "ready");
    for (let i = 0; i < 100 && messages < 1; i++, await Bun.sleep(50)) messages = await countRows(rt.database, "messages");
  }, 60_000);
  afterAll(async () => {
    socket?.close();
    await rt?.close();
  });

  for (const finding of HTTP) {
    test(`${finding.found}: ${finding.expect.status} ${finding.expect.code}`, async () => {
      const res = await call(rt.app, finding.method, finding.path + queryString(finding.query), {
        headers: { authorization: `Bearer ${p.owner.access_token}`, "content-type": "application/json" },
        raw: JSON.stringify(finding.body(p)),
      });
      expectErrorShape(res, finding.found);
      expect(res.status, res.text).toBe(finding.expect.status);
      expect(res.json.error.code).toBe(finding.expect.code);
      expect(res.json.error.details.map((d: { field: string }) => d.field)).toContain(finding.expect.field);
    });
  }

  for (const [i, finding] of WS.entries()) {
    test(`${finding.found}: ${finding.expect.status} error frame, socket still usable`, async () => {
      const before = socket.frames.length;
      socket.send(finding.frame(p));
      socket.send({ type: "ping", id: `regression-${i}` });
      await socket.next((x) => x.type === "pong" && x.id === `regression-${i}`);
      const answers = socket.frames.slice(before);
      expect(answers.filter((x) => x.type === "message")).toEqual([]);
      const errors = answers.filter((x) => x.type === "error");
      expect(errors.map((e) => [e.status, e.code]), JSON.stringify(answers)).toEqual([[finding.expect.status, finding.expect.code]]);
      expect(errors[0].message).toContain(finding.expect.mentions);
    });
  }

  test("the legitimate neighbours still work: a login with the odd query keys, a read with a number, an emoji message", async () => {
    const login = await call(rt.app, "POST", "/auth/login" + queryString(HTTP[0]!.query), { body: { username: p.owner.username, password: p.owner.password } });
    expect(login.status, login.text).toBe(200);
    socket.send({ type: "read", conversation_id: p.direct, seq: 1 });
    socket.send({ type: "send", conversation_id: p.direct, content: "paired 🙂 \ud83d\ude42", client_id: "ok1" });
    const sent = await socket.next((x) => x.type === "message" && x.client_id === "ok1");
    expect(sent.message.content).toBe("paired 🙂 🙂");
    // Nothing half-written: exactly the one good message reached PostgreSQL.
    for (let i = 0; i < 100 && (await countRows(rt.database, "messages")) < messages + 1; i++) await Bun.sleep(50);
    expect(await countRows(rt.database, "messages")).toBe(messages + 1);
  }, 15_000);
});

describe("hostileInput: what the schemas cannot say", () => {
  test("a nested object with an own toString key is refused, at any depth, in arrays too", () => {
    expect(hostileInput({ password: { toString: {} } })).toEqual({ field: "password", message: 'must not be an object with a "toString" key' });
    expect(hostileInput({ members: ["a", { toString: 1 }] })?.field).toBe("members.1");
    expect(hostileInput({ a: { b: { toString: "x" } } })?.field).toBe("a.b");
  });

  test("a root toString key (body, query, frame) is left to the schemas; valueOf alone is harmless", () => {
    expect(hostileInput({ toString: "1", search: "a" })).toBeNull();
    expect(hostileInput({ password: { valueOf: 1 } })).toBeNull();
    expect(hostileInput({ password: { tostring: 1, "toString ": 1 } })).toBeNull();
  });

  test("why: such an object throws when stringified, which is what Elysia's error message does", () => {
    expect(() => `${JSON.parse('{"toString":{"a":1}}')}`).toThrow(TypeError);
    expect(`${JSON.parse('{"valueOf":1}')}`).toBe("[object Object]");
  });

  test("unpaired surrogates are refused in values and keys; pairs (emoji) are fine", () => {
    expect(hostileInput({ content: LONE })?.field).toBe("content");
    expect(hostileInput({ a: ["x", "\udc00"] })?.field).toBe("a.1");
    expect(hostileInput({ ["k\ud800"]: 1 })?.message).toMatch(/^keys must not contain unpaired/);
    expect(hostileInput({ content: "🙂 \ud83d\ude42 👨‍👩‍👧‍👦" })).toBeNull();
  });
});
