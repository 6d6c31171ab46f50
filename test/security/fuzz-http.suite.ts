/**
 * Property-based fuzzing of every HTTP route the app serves, run on a full
 * runtime (the actor system included, so chat messages reach PostgreSQL).
 * Every answer must be below 500 and every refusal must have the error shape;
 * the server must still be healthy afterwards, and the tables must hold
 * exactly the rows the 2xx answers announced: nothing half-written by a
 * refused request.
 *
 * The route list comes from the app: a route without an entry in SPECS
 * (fuzz-http.routes.ts) fails the first test, so a new route is fuzzed as soon
 * as someone describes it.
 * FUZZ_RUNS (default 60) sets the cases per route; seeds and replay: replay.ts
 * and README.md here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { sql } from "drizzle-orm";
import { call } from "../helpers/app";
import type { TestRuntime } from "../helpers/runtime";
import { rowsOf } from "../../src/db/client";
import { applyBody, bodyCase, contentType, encodeAll, queryArb, queryString, segment, text, type BodyCase, type QueryPair } from "./arbitraries";
import { describe as show, fuzz, FUZZ_RUNS, fuzzTimeout } from "./replay";
import { attachRunners, badTokens, buildFixture, countRows, expectErrorShape, ownedElsewhere, routeKeys, type Fixture } from "./fixture";
import { SPECS, type Spec } from "./fuzz-http.routes";

type Ledger = { users: Set<string>; sessions: number; rooms: Set<string>; messages: Set<string>; jobs: Set<string>; cases: number; accepted: number };

/** `file` is the test file that calls this, for the replay command a failure prints. */
export function fuzzHttpSuite(name: string, file: string, build: () => Promise<TestRuntime>, runs = FUZZ_RUNS) {
  describe(`HTTP fuzzing (${name})`, () => {
    let rt: TestRuntime;
    let f: Fixture;
    let base: Record<string, number>;
    const ledger: Ledger = { users: new Set(), sessions: 0, rooms: new Set(), messages: new Set(), jobs: new Set(), cases: 0, accepted: 0 };
    let n = 0;
    let detachRunners: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      rt = await build();
      detachRunners = await attachRunners(rt.services);
      f = await buildFixture(rt.app, rt.database);
      await waitFor(async () => (await userMessages()) === 2);
      base = Object.fromEntries(await Promise.all(["users", "refresh_tokens", "submissions"].map(async (t) => [t, await countRows(rt.database, t)] as const)));
      base.messages = await userMessages();
      base.rooms = await roomCount();
    }, 60_000);
    afterAll(async () => {
      await detachRunners?.();
      await rt?.close();
    });

    // What people wrote; system lines and edit/delete entries come with room changes and edits.
    const userMessages = async () => Number(rowsOf(await rt.database.db.execute(sql`select count(*)::int as n from messages where message_type in ('text', 'file')`))[0]!.n);
    const roomCount = async () => Number(rowsOf(await rt.database.db.execute(sql`select count(*)::int as n from conversations where kind = 'room'`))[0]!.n);

    test("every route of the app has a fuzz entry (and every entry is a route)", () => {
      const keys = routeKeys(rt.app).filter((k) => !ownedElsewhere(k));
      expect(keys.filter((k) => !SPECS[k])).toEqual([]);
      expect(Object.keys(SPECS).filter((k) => !keys.includes(k))).toEqual([]);
    });

    type Req = { params: Record<string, string>; query: QueryPair[]; body: BodyCase; pick: number; type: string | undefined; auth: "valid" | "none" | "garbage" | "expired" | "forged" | "algNone"; garbage: string };

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
        // Last: a new field before the others would change every case a recorded seed produces.
        pick: fc.nat(),
      });
    }

    async function send(method: string, pattern: string, spec: Spec, r: Req) {
      const path = pattern.replace(/:([a-z_]+)/g, (_, k: string) => r.params[k] ?? "x") + queryString(r.query);
      const headers: Record<string, string> = {};
      const bad = badTokens(rt.config.JWT_SECRET, f.owner.user.id);
      if (r.auth === "valid") headers.authorization = `Bearer ${f.owner.access_token}`;
      else if (r.auth === "garbage") headers.authorization = `Bearer ${encodeAll(r.garbage).slice(0, 4000)}`;
      else if (r.auth !== "none") headers.authorization = `Bearer ${bad[r.auth]}`;
      const built = applyBody(spec.body?.(f, n++, r.pick) ?? {}, r.body);
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
      if (key === "POST /rooms") ledger.rooms.add(res.json.id);
      if (key === "POST /chat/send") ledger.messages.add(res.json.message.id);
      if (key === "POST /problems/submit") ledger.jobs.add(res.json.job_id);
    }

    for (const [key, spec] of Object.entries(SPECS)) {
      if (spec.ws) continue;
      const [method, pattern] = key.split(" ") as [string, string];
      test(`${key}: hostile input gets 4xx with the error shape, never 5xx`, async () => {
        await fuzz(fc.asyncProperty(requestArb(spec), async (r) => {
          const res = await send(method, pattern, spec, r);
          const context = `${key} ${show(r)}`;
          expect(res.status, context).toBeLessThan(500);
          if (res.status >= 400) expectErrorShape(res, context);
          // Wrong types and broken JSON must be refused, not read as "no body" or coerced.
          if (res.malformed) expect(res.status, context).toBeGreaterThanOrEqual(400);
          else if (!spec.notJson && res.status !== 204) expect(res.json, context).toBeDefined();
          record(key, res);
        }), { name: `${key}: hostile`, file }, runs);
      }, fuzzTimeout(60_000));
    }

    test("unrouted paths and odd methods: 4xx with the error shape", async () => {
      const methods = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND");
      const paths = fc.array(fc.oneof(fc.constantFrom("auth", "users", "chat", "rooms", "problems", "swagger", "assets", "..", "%2e%2e", "%00", "%"), text.map((s) => encodeAll(s.slice(0, 200)))), { minLength: 1, maxLength: 4 });
      await fuzz(fc.asyncProperty(methods, paths, async (method, segs) => {
        const res = await call(rt.app, method, `/${segs.join("/")}`, { headers: { authorization: `Bearer ${f.owner.access_token}` } });
        const context = `${method} /${segs.join("/")}`;
        expect(res.status, context).toBeLessThan(500);
        if (res.status >= 400) expectErrorShape(res, context);
        ledger.cases++;
      }), { name: "unrouted paths", file }, runs * 2);
    }, fuzzTimeout(60_000));

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
      await waitFor(async () => (await userMessages()) >= expected);
      expect(await userMessages()).toBe(expected);
      // No conversation without its people: a direct conversation always has exactly its two members.
      const broken = rowsOf(await rt.database.db.execute(sql`select c.id from conversations c
        where c.kind = 'direct' and (select count(*) from conversation_members m where m.conversation_id = c.id) <> 2`));
      expect(broken).toEqual([]);
    }, fuzzTimeout(30_000));
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
