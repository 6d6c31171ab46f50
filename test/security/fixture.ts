/**
 * Shared ground for the security suites: the people of the authorization
 * matrix (owner, admin, member, outsider) with a private room, a public room,
 * a direct conversation and a submission; hand-made bad tokens; the route list
 * read from the app itself; and the error-shape check every refusal must pass.
 */
import { expect } from "bun:test";
import { createHmac } from "node:crypto";
import { sql } from "drizzle-orm";
import { call, registerUser } from "../helpers/app";
import type { Database } from "../../src/db/client";
import { packs, problems } from "../../src/db/schema";
import { rowsOf } from "../../src/db/client";
import type { RunnerSlot } from "../../src/modules/problems/runs";
import { PgliteSandboxBackend } from "../../src/sandbox/pglite-sandbox";
import { RunnerPool } from "../../src/sandbox/pool";

type App = Parameters<typeof registerUser>[0];
export type Session = Awaited<ReturnType<typeof registerUser>>;

export const PROBLEM_ID = "sec-one";

/**
 * A real PGlite runner pool (one runner) behind `POST /problems/run`, which answers synchronously:
 * judge workers are off in these tests, so without it every valid run would be a 503.
 */
export async function attachRunners(services: { runnerSlot: RunnerSlot }): Promise<() => Promise<void>> {
  const pool = new RunnerPool(await PgliteSandboxBackend.create(), { size: 1, queueTimeoutMs: 10_000 });
  // The first job starts the runner (initdb for the first snapshot: seconds on a loaded machine); not inside a test.
  const warm = await pool.run("public", "select 1", { timeoutMs: 60_000, maxRows: 1 });
  if (!warm.ok) throw new Error(`the test runner did not start: ${warm.error}`);
  services.runnerSlot.current = pool;
  return async () => {
    services.runnerSlot.current = null;
    await pool.close();
  };
}

/** A catalog entry without a sandbox: enough to submit (judge workers are off in these tests). */
export async function seedProblem(database: Database) {
  await database.db.insert(packs).values({ id: "sec", title: "Security pack", schema: "sec", datasetSha256: "0" }).onConflictDoNothing();
  await database.db.insert(problems).values({
    id: PROBLEM_ID, packId: "sec", title: "One", difficulty: "easy", statement: "Select one.", solution: "select 1",
    expected: { columns: [{ name: "one", type: "int4" }], rows: [["1"]] },
  }).onConflictDoNothing();
}

export type Fixture = {
  owner: Session; admin: Session; member: Session; outsider: Session;
  /** Private room: owner (owner), admin (admin), member (member); outsider is not in it. */
  room: string;
  /** The owner's text message in R. */
  message: string;
  /** Public room owned by owner. */
  publicRoom: string;
  /** Direct conversation owner <-> member. */
  direct: string;
  /** A submission of owner's. */
  job: string;
};

export async function buildFixture(app: App, database: Database): Promise<Fixture> {
  await seedProblem(database);
  const [owner, admin, member, outsider] = await Promise.all(["own", "adm", "mem", "out"].map((p) => registerUser(app, p)));
  const room = await call(app, "POST", "/rooms", { token: owner!.access_token, body: { name: "secret", is_private: true, members: [member!.user.id] } });
  if (room.status !== 201) throw new Error(`room: ${room.status} ${room.text}`);
  const promoted = await call(app, "POST", `/rooms/${room.json.id}/members`, { token: owner!.access_token, body: { user_ids: [admin!.user.id], role: "admin" } });
  if (promoted.status !== 200) throw new Error(`admin: ${promoted.status} ${promoted.text}`);
  const pub = await call(app, "POST", "/rooms", { token: owner!.access_token, body: { name: "lobby" } });
  const dm = await call(app, "POST", "/chat/send", { token: owner!.access_token, body: { to: member!.user.id, content: "just us" } });
  const hello = await call(app, "POST", "/chat/send", { token: owner!.access_token, body: { conversation_id: room.json.id, content: "room hello" } });
  const sub = await call(app, "POST", "/problems/submit", { token: owner!.access_token, body: { problem_id: PROBLEM_ID, sql_query: "select 1 as one" } });
  if (sub.status !== 202) throw new Error(`submit: ${sub.status} ${sub.text}`);
  return {
    owner: owner!, admin: admin!, member: member!, outsider: outsider!,
    room: room.json.id, publicRoom: pub.json.id, direct: dm.json.message.conversation_id, job: sub.json.job_id,
    message: hello.json.message.id,
  };
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** An HS256 JWT signed with `secret`, for tokens the app would never issue itself. */
export function signJwt(secret: string, payload: object, header: object = { alg: "HS256", typ: "JWT" }): string {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

export const now = () => Math.floor(Date.now() / 1000);

/** The three kinds of bad token of the matrix, each for a real user id. */
export function badTokens(secret: string, userId: string) {
  return {
    expired: signJwt(secret, { sub: userId, typ: "access", iat: now() - 3600, exp: now() - 60 }),
    forged: signJwt("not-the-server-secret-not-the-server-secret", { sub: userId, typ: "access", iat: now(), exp: now() + 600 }),
    algNone: `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: userId, typ: "access", iat: now(), exp: now() + 600 })}.`,
  };
}

/**
 * "METHOD /path" for every route the app serves (Elysia's own list), WebSocket routes as "WS": Elysia
 * `.ws()` routes and GET handshakes that upgrade themselves (marked `x-websocket` in their detail).
 */
export function routeKeys(app: { routes: { method: string; path: string; hooks?: { detail?: Record<string, unknown> } }[] }): string[] {
  const ws = (r: { method: string; hooks?: { detail?: Record<string, unknown> } }) => r.method.toUpperCase() === "WS" || r.hooks?.detail?.["x-websocket"] === true;
  return [...new Set(app.routes.map((r) => `${ws(r) ? "WS" : r.method.toUpperCase()} ${r.path}`))];
}

/** Routes another suite owns (the files module is fuzzed and authorised by its own tests). */
export const ownedElsewhere = (key: string) => / \/files(\/|$)/.test(key);

/** The one error shape of the API: {"error": {code, message, details?}} and nothing else. */
export function expectErrorShape(res: { status: number; json: any; text: string; headers: Headers }, context = "") {
  const where = `${context} -> ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.json, where).toBeObject();
  expect(Object.keys(res.json), where).toEqual(["error"]);
  const e = res.json.error;
  expect(typeof e.code === "string" && e.code.length > 0, where).toBe(true);
  expect(typeof e.message === "string" && e.message.length > 0, where).toBe(true);
  expect(Object.keys(e).every((k) => ["code", "message", "details"].includes(k)), where).toBe(true);
  expect(res.headers.get("content-type") ?? "", where).toContain("application/json");
  if (res.status === 429) expect(Number(res.headers.get("retry-after")), where).toBeGreaterThan(0);
  if (res.status === 401) expect(res.headers.get("www-authenticate") ?? "", where).toContain("Bearer");
}

export async function countRows(database: Database, table: string): Promise<number> {
  const rows = rowsOf(await database.db.execute(sql.raw(`select count(*)::int as n from ${table}`)));
  return Number(rows[0]!.n);
}

/** Value of one sample of a Prometheus counter (0 when the series does not exist yet). */
export async function metric(app: App, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await call(app, "GET", "/metrics")).text;
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelPart = line.slice(name.length, line.lastIndexOf(" "));
    if (want.every((w) => labelPart.includes(w))) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}
