/**
 * Property-based fuzzing of every HTTP route the app serves, run on a full
 * runtime (the actor system included, so chat messages reach PostgreSQL).
 * Every answer must be below 500 and every refusal must have the error shape;
 * the server must still be healthy afterwards, and the tables must hold
 * exactly the rows the 2xx answers announced: nothing half-written by a
 * refused request.
 *
 * The route list comes from the app: a route without an entry in SPECS fails
 * the first test, so a new route is fuzzed as soon as someone describes it.
 * FUZZ_RUNS (default 60) sets the cases per route.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { sql } from "drizzle-orm";
import { call } from "../helpers/app";
import type { TestRuntime } from "../helpers/runtime";
import { rowsOf } from "../../src/modules/chat/repo";
import { applyBody, bodyCase, contentType, describe as show, encodeAll, FUZZ_RUNS, fuzzOptions, queryArb, queryString, segment, text, type BodyCase, type QueryPair } from "./arbitraries";
import { badTokens, buildFixture, countRows, expectErrorShape, ownedElsewhere, PROBLEM_ID, routeKeys, type Fixture } from "./fixture";

type Spec = {
  /** Valid values for the path parameters. */
  params?: (f: Fixture) => Record<string, string>;
  /** Known query keys with valid values. */
  query?: (f: Fixture) => Record<string, string>;
  /** A valid body; `n` is unique per case (for usernames, client ids). */
  body?: (f: Fixture, n: number) => Record<string, unknown>;
  /** Successful answers that are not JSON (pages, assets, metrics). */
  notJson?: boolean;
  /** Fuzzed over a real socket in fuzz-ws.test.ts. */
  ws?: true;
};

const GHOST = Bun.randomUUIDv7();

const SPECS: Record<string, Spec> = {
  "GET /health": {},
  "GET /ready": {},
  "GET /metrics": { notJson: true },
  "GET /swagger": { notJson: true },
  "GET /swagger/json": {},
  "GET /swagger/assets/:file": { params: () => ({ file: "swagger-ui.css" }), notJson: true },
  "GET /": { notJson: true },
  "GET /assets/:name": { params: () => ({ name: "app.js" }), notJson: true },
  "POST /auth/register": { body: (_, n) => ({ username: `fz${n}_${Date.now().toString(36)}`, email: `fz${n}.${Date.now()}@example.com`, password: "correct horse battery" }) },
  "POST /auth/login": { body: (f) => ({ username: f.owner.username, password: f.owner.password }) },
  "POST /auth/token": { body: (f) => ({ grant_type: "password", username: f.owner.username, password: f.owner.password }) },
  "POST /auth/refresh": { body: (f) => ({ refresh_token: f.owner.refresh_token }) },
  "POST /auth/logout": { body: () => ({ refresh_token: "x".repeat(43) }) },
  "GET /users/me": {},
  "PATCH /users/me": { body: () => ({ display_name: "Fuzzy", bio: "a bio" }) },
  "GET /users/": { query: () => ({ search: "o", limit: "5" }) },
  "GET /users/:id": { params: (f) => ({ id: f.member.user.id }) },
  "POST /chat/send": {
    body: (f, n) => [
      { conversation_id: f.direct, content: `hi ${n}`, client_id: `c${n % 7}` },
      { to: f.member.user.id, content: `yo ${n}` },
      // Nobody has this id: always 404, and never a conversation left behind for the next try.
      { to: GHOST, content: `boo ${n}` },
    ][n % 3]!,
  },
  "GET /chat/history": { query: (f) => ({ conversation_id: f.direct, with: f.member.user.id, before_seq: "5", limit: "10" }) },
  "GET /chat/conversations": {},
  "POST /chat/read": { body: (f) => ({ conversation_id: f.direct, seq: 1 }) },
  "POST /rooms/": { body: (f, n) => ({ name: `room ${n}`, description: "d", is_private: n % 2 === 0, members: [f.member.user.id] }) },
  "GET /rooms/": { query: () => ({ search: "ro", limit: "10" }) },
  "GET /rooms/:id": { params: (f) => ({ id: f.room }) },
  "POST /rooms/:id/join": { params: (f) => ({ id: f.publicRoom }) },
  "POST /rooms/:id/leave": { params: (f) => ({ id: f.publicRoom }) },
  "POST /rooms/:id/members": { params: (f) => ({ id: f.room }), body: (f) => ({ user_ids: [f.outsider.user.id], role: "member" }) },
  "GET /rooms/:id/messages": { params: (f) => ({ id: f.room }), query: () => ({ before_seq: "3", limit: "20" }) },
  "GET /problems/": {},
  "GET /problems/submissions": { query: () => ({ problem_id: PROBLEM_ID, limit: "10" }) },
  "GET /problems/result/:job_id": { params: (f) => ({ job_id: f.job }) },
  "POST /problems/submit": { body: () => ({ problem_id: PROBLEM_ID, sql_query: "select 1 as one" }) },
  "GET /problems/:id": { params: () => ({ id: PROBLEM_ID }) },
  "WS /chat/subscribe": { ws: true },
};

type Ledger = { users: Set<string>; sessions: number; rooms: Set<string>; messages: Set<string>; jobs: Set<string>; cases: number; accepted: number };

export function fuzzHttpSuite(name: string, build: () => Promise<TestRuntime>, runs = FUZZ_RUNS) {
  describe(`HTTP fuzzing (${name})`, () => {
    let rt: TestRuntime;
    let f: Fixture;
    let base: Record<string, number>;
    const ledger: Ledger = { users: new Set(), sessions: 0, rooms: new Set(), messages: new Set(), jobs: new Set(), cases: 0, accepted: 0 };
    let n = 0;

    beforeAll(async () => {
      rt = await build();
      f = await buildFixture(rt.app, rt.database);
      await waitFor(async () => (await countRows(rt.database, "messages")) === 2);
      base = Object.fromEntries(await Promise.all(["users", "refresh_tokens", "messages", "submissions"].map(async (t) => [t, await countRows(rt.database, t)] as const)));
      base.rooms = await roomCount();
    }, 60_000);
    afterAll(async () => {
      await rt?.close();
    });

    const roomCount = async () => Number(rowsOf(await rt.database.db.execute(sql`select count(*)::int as n from conversations where kind = 'room'`))[0]!.n);

    test("every route of the app has a fuzz entry (and every entry is a route)", () => {
      const keys = routeKeys(rt.app).filter((k) => !ownedElsewhere(k));
      expect(keys.filter((k) => !SPECS[k])).toEqual([]);
      expect(Object.keys(SPECS).filter((k) => !keys.includes(k))).toEqual([]);
    });

    type Req = { params: Record<string, string>; query: QueryPair[]; body: BodyCase; type: string | undefined; auth: "valid" | "none" | "garbage" | "expired" | "forged" | "algNone"; garbage: string };

    function requestArb(spec: Spec): fc.Arbitrary<Req> {
      const valid = spec.params?.(f) ?? {};
      const params = fc.record(Object.fromEntries(Object.entries(valid).map(([k, v]) => [k, segment(v)])) as Record<string, fc.Arbitrary<string>>);
      return fc.record({
        params,
        query: queryArb(spec.query?.(f) ?? {}),
        body: spec.body ? bodyCase : fc.oneof({ arbitrary: fc.constant({ kind: "empty" as const }), weight: 3 }, { arbitrary: bodyCase, weight: 1 }),
        type: contentType,
        auth: fc.oneof(
          { arbitrary: fc.constant("valid" as const), weight: 10 },
          { arbitrary: fc.constantFrom("none" as const, "garbage" as const, "expired" as const, "forged" as const, "algNone" as const), weight: 2 },
        ),
        garbage: fc.oneof(text, fc.constant("Bearer"), fc.constant("Basic Zm9vOmJhcg==")),
      });
    }

    async function send(method: string, pattern: string, spec: Spec, r: Req) {
      const path = pattern.replace(/:([a-z_]+)/g, (_, k: string) => r.params[k] ?? "x") + queryString(r.query);
      const headers: Record<string, string> = {};
      const bad = badTokens(rt.config.JWT_SECRET, f.owner.user.id);
      if (r.auth === "valid") headers.authorization = `Bearer ${f.owner.access_token}`;
      else if (r.auth === "garbage") headers.authorization = `Bearer ${encodeAll(r.garbage).slice(0, 4000)}`;
      else if (r.auth !== "none") headers.authorization = `Bearer ${bad[r.auth]}`;
      const built = applyBody(spec.body?.(f, n++) ?? {}, r.body);
      let body: string | undefined;
      if (built && method !== "GET") {
        if (built.raw !== undefined) body = built.raw;
        else if (r.type === "application/x-www-form-urlencoded" && built.json && typeof built.json === "object" && !Array.isArray(built.json)) {
          body = new URLSearchParams(Object.entries(built.json).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v) ?? ""])).toString();
        } else body = JSON.stringify(built.json) ?? "null";
        if (r.type) headers["content-type"] = r.type;
      }
      const res = await call(rt.app, method, path, { headers, raw: body });
      return Object.assign(res, { malformed: spec.body !== undefined && r.type === "application/json" && !!body && certainlyMalformed(r.body) });
    }

    function record(key: string, res: { status: number; json: any }) {
      ledger.cases++;
      if (res.status >= 300) return;
      ledger.accepted++;
      if (key === "POST /auth/register") ledger.users.add(res.json.user.id);
      if (["POST /auth/register", "POST /auth/login", "POST /auth/token", "POST /auth/refresh"].includes(key)) ledger.sessions++;
      if (key === "POST /rooms/") ledger.rooms.add(res.json.id);
      if (key === "POST /chat/send") ledger.messages.add(res.json.message.id);
      if (key === "POST /problems/submit") ledger.jobs.add(res.json.job_id);
    }

    for (const [key, spec] of Object.entries(SPECS)) {
      if (spec.ws) continue;
      const [method, pattern] = key.split(" ") as [string, string];
      test(`${key}: hostile input gets 4xx with the error shape, never 5xx`, async () => {
        await fc.assert(fc.asyncProperty(requestArb(spec), async (r) => {
          const res = await send(method, pattern, spec, r);
          const context = `${key} ${show(r)}`;
          expect(res.status, context).toBeLessThan(500);
          if (res.status >= 400) expectErrorShape(res, context);
          // Wrong types and broken JSON must be refused, not read as "no body" or coerced.
          if (res.malformed) expect(res.status, context).toBeGreaterThanOrEqual(400);
          else if (!spec.notJson && res.status !== 204) expect(res.json, context).toBeDefined();
          record(key, res);
        }), fuzzOptions(runs));
      }, 60_000);
    }

    test("unrouted paths and odd methods: 4xx with the error shape", async () => {
      const methods = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND");
      const paths = fc.array(fc.oneof(fc.constantFrom("auth", "users", "chat", "rooms", "problems", "swagger", "assets", "..", "%2e%2e", "%00", "%"), text.map((s) => encodeAll(s.slice(0, 200)))), { minLength: 1, maxLength: 4 });
      await fc.assert(fc.asyncProperty(methods, paths, async (method, segs) => {
        const res = await call(rt.app, method, `/${segs.join("/")}`, { headers: { authorization: `Bearer ${f.owner.access_token}` } });
        const context = `${method} /${segs.join("/")}`;
        expect(res.status, context).toBeLessThan(500);
        if (res.status >= 400) expectErrorShape(res, context);
        ledger.cases++;
      }), fuzzOptions(runs * 2));
    }, 60_000);

    test("after the fuzz run the server is healthy and only accepted requests left rows behind", async () => {
      console.error(`fuzz: ${ledger.cases} HTTP cases, ${ledger.accepted} accepted`);
      expect(ledger.cases).toBeGreaterThan(0);
      expect((await call(rt.app, "GET", "/health")).status).toBe(200);
      expect((await call(rt.app, "GET", "/ready")).status).toBe(200);
      expect(await countRows(rt.database, "users")).toBe(base.users! + ledger.users.size);
      expect(await countRows(rt.database, "refresh_tokens")).toBe(base.refresh_tokens! + ledger.sessions);
      expect(await countRows(rt.database, "submissions")).toBe(base.submissions! + ledger.jobs.size);
      expect(await roomCount()).toBe(base.rooms! + ledger.rooms.size);
      // Messages reach PostgreSQL through the outbox: wait for the persister, then compare.
      const expected = base.messages! + ledger.messages.size;
      await waitFor(async () => (await countRows(rt.database, "messages")) >= expected);
      expect(await countRows(rt.database, "messages")).toBe(expected);
      // No conversation without its people: a direct conversation always has exactly its two members.
      const broken = rowsOf(await rt.database.db.execute(sql`select c.id from conversations c
        where c.kind = 'direct' and (select count(*) from conversation_members m where m.conversation_id = c.id) <> 2`));
      expect(broken).toEqual([]);
    }, 30_000);
  });
}

/** Bodies no route may accept: a JSON value that is not an object, broken JSON, nesting past any sane depth. */
function certainlyMalformed(c: BodyCase): boolean {
  if (c.kind === "whole") return c.value === null || typeof c.value !== "object" || Array.isArray(c.value);
  return c.kind === "truncated" || c.kind === "deep" || c.kind === "deep-field";
}

async function waitFor(cond: () => Promise<boolean>, ms = 10_000) {
  const until = Date.now() + ms;
  while (Date.now() < until && !(await cond())) await Bun.sleep(50);
}
