/**
 * The authorization matrix: every route against every kind of caller, as a
 * table of expected statuses. The callers: nobody (no token), an expired
 * token, a token signed with another key, an `alg: none` token (the three bad
 * tokens all name the owner), a user with no part in anything (outsider), and
 * the member, admin and owner of a private room. Resources:
 *   R = private room (owner, admin, member)    P = public room of owner's
 *   D = direct conversation owner <-> member   J = a submission of owner's
 * A non-member always gets 404 (the conversation's existence is not revealed),
 * a member without the right role 403. Rows marked "fresh" build their room
 * per cell, since the request changes it. The table must cover every route.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call } from "../helpers/app";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../helpers/runtime";
import { pngWithText } from "../integration/files/fixtures";
import { attachRunners, badTokens, buildFixture, expectErrorShape, ownedElsewhere, PROBLEM_ID, routeKeys, type Fixture } from "./fixture";

const ROLES = ["anonymous", "expired", "forged", "alg-none", "outsider", "member", "admin", "owner"] as const;
type Role = (typeof ROLES)[number];
type Req = { method: string; path: string; body?: unknown; form?: Record<string, string>; upload?: Uint8Array<ArrayBuffer> };
type Ctx = { f: Fixture; role: Role; freshRoom: () => Promise<string> };
type Row = { route: string; note: string; req: (c: Ctx) => Req | Promise<Req>; expect: string };

const PUBLIC = "200 200 200 200 200 200 200 200";
const SIGNED_IN = "401 401 401 401 200 200 200 200";

let rolling = "";
let serial = 0;

const MATRIX: Row[] = [
  // route                          note                        request                                                                                    anon exp forg none out mem adm own
  { route: "GET /health", note: "", req: () => ({ method: "GET", path: "/health" }), expect: PUBLIC },
  { route: "GET /ready", note: "", req: () => ({ method: "GET", path: "/ready" }), expect: PUBLIC },
  { route: "GET /metrics", note: "", req: () => ({ method: "GET", path: "/metrics" }), expect: PUBLIC },
  { route: "GET /swagger", note: "", req: () => ({ method: "GET", path: "/swagger" }), expect: PUBLIC },
  { route: "GET /swagger/json", note: "", req: () => ({ method: "GET", path: "/swagger/json" }), expect: PUBLIC },
  { route: "GET /swagger/assets/:file", note: "", req: () => ({ method: "GET", path: "/swagger/assets/swagger-ui.css" }), expect: PUBLIC },
  { route: "GET /", note: "web client", req: () => ({ method: "GET", path: "/" }), expect: PUBLIC },
  { route: "GET /assets/:name", note: "", req: () => ({ method: "GET", path: "/assets/app.js" }), expect: PUBLIC },
  { route: "GET /favicon.ico", note: "", req: () => ({ method: "GET", path: "/favicon.ico" }), expect: PUBLIC },
  { route: "POST /auth/register", note: "a bad token is ignored", req: () => ({ method: "POST", path: "/auth/register", body: { username: `mx${serial}_${Date.now().toString(36)}`, email: `mx${serial++}.${Date.now()}@example.com`, password: "correct horse battery" } }), expect: "201 201 201 201 201 201 201 201" },
  { route: "POST /auth/login", note: "owner's password", req: (c) => ({ method: "POST", path: "/auth/login", body: { username: c.f.owner.username, password: c.f.owner.password } }), expect: PUBLIC },
  { route: "POST /auth/token", note: "OAuth2 form", req: (c) => ({ method: "POST", path: "/auth/token", form: { grant_type: "password", username: c.f.owner.username, password: c.f.owner.password } }), expect: PUBLIC },
  { route: "POST /auth/refresh", note: "owner's current token", req: () => ({ method: "POST", path: "/auth/refresh", body: { refresh_token: rolling } }), expect: PUBLIC },
  { route: "POST /auth/logout", note: "", req: () => ({ method: "POST", path: "/auth/logout", body: { refresh_token: "not-a-token-of-anyone-here" } }), expect: "401 401 401 401 204 204 204 204" },
  { route: "GET /users/me", note: "", req: () => ({ method: "GET", path: "/users/me" }), expect: SIGNED_IN },
  { route: "PATCH /users/me", note: "", req: () => ({ method: "PATCH", path: "/users/me", body: { bio: "matrix" } }), expect: SIGNED_IN },
  { route: "PUT /users/me", note: "alias of PATCH", req: () => ({ method: "PUT", path: "/users/me", body: { bio: "matrix put" } }), expect: SIGNED_IN },
  { route: "PUT /users/me/avatar", note: "multipart PNG", req: async () => ({ method: "PUT", path: "/users/me/avatar", upload: await pngWithText(40, 30) }), expect: SIGNED_IN },
  { route: "GET /users/:id/avatar", note: "owner's (set by the row above)", req: (c) => ({ method: "GET", path: `/users/${c.f.owner.user.id}/avatar` }), expect: SIGNED_IN },
  { route: "DELETE /users/me/avatar", note: "", req: () => ({ method: "DELETE", path: "/users/me/avatar" }), expect: SIGNED_IN },
  { route: "GET /users", note: "search", req: () => ({ method: "GET", path: "/users?search=own" }), expect: SIGNED_IN },
  { route: "GET /users/:id", note: "owner's profile", req: (c) => ({ method: "GET", path: `/users/${c.f.owner.user.id}` }), expect: SIGNED_IN },
  { route: "POST /chat/send", note: "into R", req: (c) => ({ method: "POST", path: "/chat/send", body: { conversation_id: c.f.room, content: "hello R" } }), expect: "401 401 401 401 404 201 201 201" },
  { route: "POST /chat/send", note: "into D", req: (c) => ({ method: "POST", path: "/chat/send", body: { conversation_id: c.f.direct, content: "hello D" } }), expect: "401 401 401 401 404 201 404 201" },
  { route: "POST /chat/send", note: "to owner (direct)", req: (c) => ({ method: "POST", path: "/chat/send", body: { to: c.f.owner.user.id, content: "hi owner" } }), expect: "401 401 401 401 201 201 201 400" },
  { route: "GET /chat/history", note: "of R", req: (c) => ({ method: "GET", path: `/chat/history?conversation_id=${c.f.room}` }), expect: "401 401 401 401 404 200 200 200" },
  { route: "GET /chat/history", note: "of D", req: (c) => ({ method: "GET", path: `/chat/history?conversation_id=${c.f.direct}` }), expect: "401 401 401 401 404 200 404 200" },
  { route: "GET /chat/history", note: "with=member", req: (c) => ({ method: "GET", path: `/chat/history?with=${c.f.member.user.id}` }), expect: "401 401 401 401 404 404 404 200" },
  { route: "GET /chat/conversations", note: "", req: () => ({ method: "GET", path: "/chat/conversations" }), expect: SIGNED_IN },
  { route: "POST /chat/read", note: "in R", req: (c) => ({ method: "POST", path: "/chat/read", body: { conversation_id: c.f.room, seq: 1 } }), expect: "401 401 401 401 404 200 200 200" },
  { route: "POST /chat/read", note: "in D", req: (c) => ({ method: "POST", path: "/chat/read", body: { conversation_id: c.f.direct, seq: 1 } }), expect: "401 401 401 401 404 200 404 200" },
  { route: "POST /chat/conversations/:id/mute", note: "R", req: (c) => ({ method: "POST", path: `/chat/conversations/${c.f.room}/mute`, body: { until: "2000-01-01T00:00:00Z" } }), expect: "401 401 401 401 404 200 200 200" },
  { route: "POST /chat/conversations/:id/mute", note: "D", req: (c) => ({ method: "POST", path: `/chat/conversations/${c.f.direct}/mute`, body: {} }), expect: "401 401 401 401 404 200 404 200" },
  { route: "GET /notifications", note: "", req: () => ({ method: "GET", path: "/notifications?limit=5" }), expect: SIGNED_IN },
  { route: "POST /notifications/read", note: "all", req: () => ({ method: "POST", path: "/notifications/read", body: { all: true } }), expect: SIGNED_IN },
  { route: "POST /notifications/read", note: "someone else's id: nothing changes", req: () => ({ method: "POST", path: "/notifications/read", body: { ids: [Bun.randomUUIDv7()] } }), expect: SIGNED_IN },
  { route: "POST /rooms", note: "", req: () => ({ method: "POST", path: "/rooms", body: { name: "mine" } }), expect: "401 401 401 401 201 201 201 201" },
  { route: "GET /rooms", note: "", req: () => ({ method: "GET", path: "/rooms" }), expect: SIGNED_IN },
  { route: "GET /rooms/:id", note: "R", req: (c) => ({ method: "GET", path: `/rooms/${c.f.room}` }), expect: "401 401 401 401 404 200 200 200" },
  { route: "GET /rooms/:id", note: "P", req: (c) => ({ method: "GET", path: `/rooms/${c.f.publicRoom}` }), expect: SIGNED_IN },
  { route: "POST /rooms/:id/join", note: "R", req: (c) => ({ method: "POST", path: `/rooms/${c.f.room}/join` }), expect: "401 401 401 401 404 200 200 200" },
  { route: "POST /rooms/:id/join", note: "fresh public room", req: async (c) => ({ method: "POST", path: `/rooms/${await publicRoom(c)}/join` }), expect: SIGNED_IN },
  { route: "POST /rooms/:id/leave", note: "fresh R", req: async (c) => ({ method: "POST", path: `/rooms/${await c.freshRoom()}/leave` }), expect: "401 401 401 401 404 200 200 200" },
  { route: "POST /rooms/:id/members", note: "fresh R, add outsider", req: async (c) => ({ method: "POST", path: `/rooms/${await c.freshRoom()}/members`, body: { user_ids: [c.f.outsider.user.id] } }), expect: "401 401 401 401 404 403 200 200" },
  { route: "POST /rooms/:id/members", note: "fresh R, add as admin", req: async (c) => ({ method: "POST", path: `/rooms/${await c.freshRoom()}/members`, body: { user_ids: [c.f.outsider.user.id], role: "admin" } }), expect: "401 401 401 401 404 403 403 200" },
  { route: "GET /rooms/:id/messages", note: "R", req: (c) => ({ method: "GET", path: `/rooms/${c.f.room}/messages` }), expect: "401 401 401 401 404 200 200 200" },
  { route: "GET /rooms/:id/messages", note: "D is not a room, still 404 for others", req: (c) => ({ method: "GET", path: `/rooms/${c.f.direct}/messages` }), expect: "401 401 401 401 404 200 404 200" },
  { route: "GET /chat/search", note: "in R", req: (c) => ({ method: "GET", path: `/chat/search?q=hello&conversation_id=${c.f.room}` }), expect: SIGNED_IN },
  { route: "PATCH /chat/messages/:id", note: "owner's message in fresh R", req: async (c) => ({ method: "PATCH", path: `/chat/messages/${await said(c, "owner", await c.freshRoom())}`, body: { content: "fixed" } }), expect: "401 401 401 401 404 403 403 200" },
  { route: "PATCH /chat/messages/:id", note: "member's message in fresh R", req: async (c) => ({ method: "PATCH", path: `/chat/messages/${await said(c, "member", await c.freshRoom())}`, body: { content: "fixed" } }), expect: "401 401 401 401 404 200 403 403" },
  { route: "DELETE /chat/messages/:id", note: "owner's message in fresh R", req: async (c) => ({ method: "DELETE", path: `/chat/messages/${await said(c, "owner", await c.freshRoom())}` }), expect: "401 401 401 401 404 403 200 200" },
  { route: "DELETE /chat/messages/:id", note: "member's message in D", req: async (c) => ({ method: "DELETE", path: `/chat/messages/${await said(c, "member", c.f.direct)}` }), expect: "401 401 401 401 404 200 404 403" },
  { route: "DELETE /chat/conversations/:id/history", note: "fresh R", req: async (c) => ({ method: "DELETE", path: `/chat/conversations/${await c.freshRoom()}/history` }), expect: "401 401 401 401 404 200 200 200" },
  { route: "DELETE /chat/conversations/:id", note: "D: hidden until a new message", req: (c) => ({ method: "DELETE", path: `/chat/conversations/${c.f.direct}` }), expect: "401 401 401 401 404 200 404 200" },
  { route: "DELETE /chat/conversations/:id", note: "fresh R: rooms are left, not hidden", req: async (c) => ({ method: "DELETE", path: `/chat/conversations/${await c.freshRoom()}` }), expect: "401 401 401 401 404 400 400 400" },
  { route: "PATCH /rooms/:id", note: "fresh R", req: async (c) => ({ method: "PATCH", path: `/rooms/${await c.freshRoom()}`, body: { description: "new" } }), expect: "401 401 401 401 404 403 200 200" },
  { route: "DELETE /rooms/:id", note: "fresh R", req: async (c) => ({ method: "DELETE", path: `/rooms/${await c.freshRoom()}` }), expect: "401 401 401 401 404 403 403 200" },
  { route: "DELETE /rooms/:id/members/:user_id", note: "fresh R, remove member", req: async (c) => ({ method: "DELETE", path: `/rooms/${await c.freshRoom()}/members/${c.f.member.user.id}` }), expect: "401 401 401 401 404 403 200 200" },
  { route: "DELETE /rooms/:id/members/:user_id", note: "fresh R, remove admin", req: async (c) => ({ method: "DELETE", path: `/rooms/${await c.freshRoom()}/members/${c.f.admin.user.id}` }), expect: "401 401 401 401 404 403 400 200" },
  { route: "PATCH /rooms/:id/members/:user_id", note: "fresh R, member to admin", req: async (c) => ({ method: "PATCH", path: `/rooms/${await c.freshRoom()}/members/${c.f.member.user.id}`, body: { role: "admin" } }), expect: "401 401 401 401 404 403 403 200" },
  { route: "GET /problems", note: "", req: () => ({ method: "GET", path: "/problems" }), expect: SIGNED_IN },
  { route: "GET /problems/submissions", note: "", req: () => ({ method: "GET", path: "/problems/submissions" }), expect: SIGNED_IN },
  { route: "GET /problems/result/:job_id", note: "J", req: (c) => ({ method: "GET", path: `/problems/result/${c.f.job}` }), expect: "401 401 401 401 404 404 404 200" },
  { route: "POST /problems/submit", note: "", req: () => ({ method: "POST", path: "/problems/submit", body: { problem_id: PROBLEM_ID, sql_query: "select 1 as one" } }), expect: "401 401 401 401 202 202 202 202" },
  { route: "POST /problems/run", note: "", req: () => ({ method: "POST", path: "/problems/run", body: { problem_id: PROBLEM_ID, sql_query: "select 1 as one" } }), expect: SIGNED_IN },
  { route: "GET /problems/:id", note: "", req: () => ({ method: "GET", path: `/problems/${PROBLEM_ID}` }), expect: SIGNED_IN },
  { route: "WS /chat/subscribe", note: "101 = upgraded, ready frame", req: () => ({ method: "WS", path: "/chat/subscribe" }), expect: "401 401 401 401 101 101 101 101" },
];

/** A new message by `who` in conversation `cid`: its id. */
async function said(c: Ctx, who: "owner" | "member", cid: string): Promise<string> {
  const res = await call(APP(), "POST", "/chat/send", { token: c.f[who].access_token, body: { conversation_id: cid, content: `said by ${who}` } });
  return res.json.message.id;
}

async function publicRoom(c: Ctx): Promise<string> {
  const res = await call(APP(), "POST", "/rooms", { token: c.f.owner.access_token, body: { name: `open ${serial++}` } });
  return res.json.id;
}

/** A multipart request with the bytes as `file`, answered like `call` does. */
async function uploadCall(req: Req, headers: Record<string, string>) {
  const form = new FormData();
  form.set("file", new File([req.upload!], "matrix.png"));
  const res = await rt.app.handle(new Request(`http://localhost${req.path}`, { method: req.method, headers, body: form }));
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

let rt: TestRuntime;
const APP = () => rt.app;

describe("authorization matrix (route x caller -> status)", () => {
  let f: Fixture;
  let tokens: Record<Role, string | undefined>;
  let detachRunners: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", { listen: true });
    detachRunners = await attachRunners(rt.services);
    f = await buildFixture(rt.app, rt.database);
    rolling = f.owner.refresh_token;
    const bad = badTokens(rt.config.JWT_SECRET, f.owner.user.id);
    tokens = {
      anonymous: undefined, expired: bad.expired, forged: bad.forged, "alg-none": bad.algNone,
      outsider: f.outsider.access_token, member: f.member.access_token, admin: f.admin.access_token, owner: f.owner.access_token,
    };
  }, 60_000);
  afterAll(async () => {
    await detachRunners?.();
    await rt?.close();
  });

  test("the matrix has a row for every route of the app", () => {
    const keys = routeKeys(rt.app).filter((k) => !ownedElsewhere(k));
    expect(keys.filter((k) => !MATRIX.some((r) => r.route === k))).toEqual([]);
    expect(MATRIX.filter((r) => !keys.includes(r.route)).map((r) => r.route)).toEqual([]);
    for (const r of MATRIX) expect(r.expect.split(" ")).toHaveLength(ROLES.length);
  });

  /** A private room like R, new for one cell. */
  async function freshRoom(): Promise<string> {
    const room = await call(rt.app, "POST", "/rooms", { token: f.owner.access_token, body: { name: "fresh", is_private: true, members: [f.member.user.id] } });
    await call(rt.app, "POST", `/rooms/${room.json.id}/members`, { token: f.owner.access_token, body: { user_ids: [f.admin.user.id], role: "admin" } });
    return room.json.id;
  }

  async function upgrade(role: Role, token: string | undefined): Promise<number> {
    if (["outsider", "member", "admin", "owner"].includes(role)) {
      const s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe?token=${token}`);
      await s.next((x) => x.type === "ready");
      s.close();
      return 101;
    }
    const res = await fetch(`${rt.base}/chat/subscribe${token ? `?token=${encodeURIComponent(token)}` : ""}`, {
      headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" },
    });
    return res.status;
  }

  for (const row of MATRIX) {
    const expected = row.expect.split(" ").map(Number);
    ROLES.forEach((role, i) => {
      test(`${row.route}${row.note ? ` (${row.note})` : ""} as ${role} -> ${expected[i]}`, async () => {
        const req = await row.req({ f, role, freshRoom });
        const token = tokens[role];
        if (req.method === "WS") {
          expect(await upgrade(role, token)).toBe(expected[i]!);
          return;
        }
        const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
        const res = req.upload
          ? await uploadCall(req, headers)
          : req.form
          ? await call(rt.app, req.method, req.path, { headers: { ...headers, "content-type": "application/x-www-form-urlencoded" }, raw: new URLSearchParams(req.form).toString() })
          : await call(rt.app, req.method, req.path, { headers, body: req.body });
        expect(res.status, res.text.slice(0, 300)).toBe(expected[i]!);
        if (res.status >= 400) expectErrorShape(res, `${row.route} as ${role}`);
        if (res.status === 401) {
          const code = { anonymous: "unauthorized", expired: "token_expired", forged: "invalid_token", "alg-none": "invalid_token" }[role as string];
          expect(res.json.error.code).toBe(code);
        }
        if (row.route === "POST /auth/refresh" && res.status === 200) rolling = res.json.refresh_token;
      }, 15_000);
    });
  }
});
