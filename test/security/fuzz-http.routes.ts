/**
 * What fuzz-http.suite.ts knows about each route: valid path parameters, query
 * keys and a valid body, which the generators then mutate. Every route of the
 * app needs an entry (the suite's first test checks it).
 */
import { PROBLEM_ID, type Fixture } from "./fixture";

export type Spec = {
  /** Valid values for the path parameters. */
  params?: (f: Fixture) => Record<string, string>;
  /** Known query keys with valid values. */
  query?: (f: Fixture) => Record<string, string>;
  /**
   * A valid body. `n` is unique per case (for usernames, emails); `pick` is part of the
   * generated case, so whatever else varies the body comes from it and a replay sends the same.
   */
  body?: (f: Fixture, n: number, pick: number) => Record<string, unknown>;
  /** Successful answers that are not JSON (pages, assets, metrics). */
  notJson?: boolean;
  /** Fuzzed over a real socket in fuzz-ws.test.ts. */
  ws?: true;
};

const GHOST = Bun.randomUUIDv7();

export const SPECS: Record<string, Spec> = {
  "GET /health": {},
  "GET /ready": {},
  "GET /metrics": { notJson: true },
  "GET /swagger": { notJson: true },
  "GET /swagger/json": {},
  "GET /swagger/assets/:file": { params: () => ({ file: "swagger-ui.css" }), notJson: true },
  "GET /": { notJson: true },
  "GET /assets/:name": { params: () => ({ name: "app.js" }), notJson: true },
  "GET /favicon.ico": { notJson: true },
  "POST /auth/register": { body: (_, n) => ({ username: `fz${n}_${Date.now().toString(36)}`, email: `fz${n}.${Date.now()}@example.com`, password: "correct horse battery" }) },
  "POST /auth/login": { body: (f) => ({ username: f.owner.username, password: f.owner.password }) },
  "POST /auth/token": { body: (f) => ({ grant_type: "password", username: f.owner.username, password: f.owner.password }) },
  "POST /auth/refresh": { body: (f) => ({ refresh_token: f.owner.refresh_token }) },
  "POST /auth/logout": { body: () => ({ refresh_token: "x".repeat(43) }) },
  "GET /users/me": {},
  "PATCH /users/me": { body: () => ({ display_name: "Fuzzy", bio: "a bio" }) },
  "PUT /users/me": { body: () => ({ display_name: "Fuzzy Put", bio: "another bio" }) },
  // JSON and form bodies are never the multipart image this route wants: always 4xx (tests/integration/users covers real images).
  "PUT /users/me/avatar": { body: () => ({ file: "not an image" }) },
  "DELETE /users/me/avatar": {},
  "GET /users/:id/avatar": { params: (f) => ({ id: f.member.user.id }), notJson: true },
  "GET /users": { query: () => ({ search: "o", limit: "5" }) },
  "GET /users/:id": { params: (f) => ({ id: f.member.user.id }) },
  "POST /chat/send": {
    body: (f, n, pick) => [
      { conversation_id: f.direct, content: `hi ${n}`, client_id: `c${pick % 7}` },
      { to: f.member.user.id, content: `yo ${n}` },
      // Nobody has this id: always 404, and never a conversation left behind for the next try.
      { to: GHOST, content: `boo ${n}` },
    ][pick % 3]!,
  },
  "GET /chat/history": { query: (f) => ({ conversation_id: f.direct, with: f.member.user.id, before_seq: "5", limit: "10" }) },
  "GET /chat/conversations": {},
  "POST /chat/read": { body: (f) => ({ conversation_id: f.direct, seq: 1 }) },
  "POST /chat/conversations/:id/mute": { params: (f) => ({ id: f.direct }), body: (_, n) => (n % 2 ? { until: "2000-01-01T00:00:00Z" } : {}) },
  "GET /notifications": { query: () => ({ limit: "10", cursor: `0:${GHOST}` }) },
  "POST /notifications/read": { body: (_, n) => (n % 2 ? { all: true } : { ids: [GHOST] }) },
  "POST /rooms": { body: (f, n) => ({ name: `room ${n}`, description: "d", is_private: n % 2 === 0, members: [f.member.user.id] }) },
  "GET /rooms": { query: () => ({ search: "ro", limit: "10" }) },
  "GET /rooms/:id": { params: (f) => ({ id: f.room }) },
  "POST /rooms/:id/join": { params: (f) => ({ id: f.publicRoom }) },
  "POST /rooms/:id/leave": { params: (f) => ({ id: f.publicRoom }) },
  "POST /rooms/:id/members": { params: (f) => ({ id: f.room }), body: (f) => ({ user_ids: [f.outsider.user.id], role: "member" }) },
  "GET /rooms/:id/messages": { params: (f) => ({ id: f.room }), query: () => ({ before_seq: "3", limit: "20" }) },
  "GET /chat/search": { query: (f) => ({ q: "room hello", conversation_id: f.room, limit: "5", before: GHOST }) },
  "PATCH /chat/messages/:id": { params: (f) => ({ id: f.message }), body: (_, n) => ({ content: `fixed ${n}` }) },
  // A ghost: deleting the fixture's message would leave the edit cases nothing to edit.
  "DELETE /chat/messages/:id": { params: () => ({ id: GHOST }) },
  "DELETE /chat/conversations/:id/history": { params: (f) => ({ id: f.direct }) },
  "DELETE /chat/conversations/:id": { params: (f) => ({ id: f.direct }) },
  "PATCH /rooms/:id": { params: (f) => ({ id: f.room }), body: (_, n, pick) => ({ name: `secret ${n}`, description: "d", is_private: pick % 2 === 0 }) },
  // A ghost: the owner's token would delete the fixture's room for every later case.
  "DELETE /rooms/:id": { params: () => ({ id: GHOST }) },
  "DELETE /rooms/:id/members/:user_id": { params: (f) => ({ id: f.room, user_id: f.outsider.user.id }) },
  "PATCH /rooms/:id/members/:user_id": { params: (f) => ({ id: f.room, user_id: f.member.user.id }), body: (_, __, pick) => ({ role: pick % 2 ? "admin" : "member" }) },
  "GET /problems": {},
  "GET /problems/submissions": { query: () => ({ problem_id: PROBLEM_ID, limit: "10" }) },
  "GET /problems/result/:job_id": { params: (f) => ({ job_id: f.job }) },
  "POST /problems/submit": { body: () => ({ problem_id: PROBLEM_ID, sql_query: "select 1 as one" }) },
  "POST /problems/run": {
    body: (_, n, pick) => ({ problem_id: PROBLEM_ID, sql_query: ["select 1 as one", `select ${n} + 1`, "select * form nowhere", "select pg_sleep(1)"][pick % 4] }),
  },
  "GET /problems/:id": { params: () => ({ id: PROBLEM_ID }) },
  "WS /chat/subscribe": { ws: true },
};
