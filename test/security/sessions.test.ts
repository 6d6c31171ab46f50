/**
 * A password change ends every other session at once (PGlite + memory
 * engine, a listening server): refresh tokens of every family are revoked,
 * access tokens that have not expired yet are refused (token_revoked),
 * sockets close with 4001; the session that made the change gets fresh
 * tokens in the response and keeps its socket. Across instances:
 * sessions.redis.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { users } from "../../src/db/schema";
import { call, registerUser } from "../helpers/app";
import { buildTestRuntime, TestSocket, type TestRuntime } from "../helpers/runtime";
import { expectErrorShape } from "./fixture";

const NEW_PASSWORD = "a brand new passphrase";

describe("sessions after a password change", () => {
  let rt: TestRuntime;
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", { listen: true });
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
  const login = async (username: string, password: string) => call(rt.app, "POST", "/auth/login", { body: { username, password } });
  const me = (token: string) => call(rt.app, "GET", "/users/me", { token });
  const refresh = (token: string) => call(rt.app, "POST", "/auth/refresh", { body: { refresh_token: token } });

  test("every other session is revoked (refresh, access, sockets with 4001); the caller gets fresh tokens and keeps its socket", async () => {
    const s1 = await registerUser(rt.app, "pw");
    const s2 = (await login(s1.username, s1.password)).json;
    const s3 = (await login(s1.username, s1.password)).json;
    const mine = await open(s1.access_token);
    const other = await open(s2.access_token);

    const res = await call(rt.app, "PATCH", "/users/me", { token: s1.access_token, body: { password: NEW_PASSWORD, current_password: s1.password, bio: "changed" } });
    expect(res.status, res.text).toBe(200);
    // Backward compatible: the user as before, plus `session`.
    expect(res.json).toMatchObject({ id: s1.user.id, username: s1.username, bio: "changed" });
    expect(Object.keys(res.json.session).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);
    expect(res.json.session.token_type).toBe("bearer");
    const fresh = res.json.session as { access_token: string; refresh_token: string };

    const closed = await other.waitClose();
    expect(closed.code).toBe(4001);
    expect(closed.reason).toContain("password changed");
    mine.send({ type: "ping", id: "still-open" });
    expect((await mine.next((f) => f.type === "pong")).id).toBe("still-open");
    expect(mine.closed).toBeNull();

    // Access tokens that have not expired yet, the caller's old one included, are refused at once.
    for (const [who, token] of [["s1", s1.access_token], ["s2", s2.access_token], ["s3", s3.access_token]]) {
      const r = await me(token!);
      expect(r.status, who).toBe(401);
      expect(r.json.error.code, who).toBe("token_revoked");
      expectErrorShape(r, `${who} after the change`);
    }
    await expect(TestSocket.connect(`${rt.wsBase}/chat/subscribe`, ["bearer", s3.access_token])).rejects.toThrow();
    for (const token of [s2.refresh_token, s3.refresh_token, s1.refresh_token]) expect((await refresh(token)).status).toBe(401);

    // The fresh session works, and survives the old refresh tokens being replayed above.
    expect((await me(fresh.access_token)).status).toBe(200);
    const rotated = await refresh(fresh.refresh_token);
    expect(rotated.status, rotated.text).toBe(200);
    expect((await me(rotated.json.access_token)).status).toBe(200);
    await (await open(rotated.json.access_token)).next((f) => f.type === "ready");

    expect((await login(s1.username, s1.password)).status).toBe(401);
    expect((await login(s1.username, NEW_PASSWORD)).status).toBe(200);
  }, 30_000);

  test("a socket whose token passed a stale cache is closed with 4001 once PostgreSQL shows the session was revoked", async () => {
    const s1 = await registerUser(rt.app, "pw");
    expect((await me(s1.access_token)).status).toBe(200); // this instance now caches generation 0
    // A change this instance never heard of (its broadcast lost): only PostgreSQL knows.
    await rt.database.db.update(users).set({ tokenGeneration: 1 }).where(eq(users.id, s1.user.id));
    const s = await TestSocket.connect(`${rt.wsBase}/chat/subscribe`, ["bearer", s1.access_token]);
    sockets.push(s);
    const closed = await s.waitClose();
    expect(closed.code).toBe(4001);
    expect(s.frames.filter((f) => f.type === "ready")).toEqual([]);
  }, 30_000);

  test("a wrong current_password changes nothing: every session, token and socket keeps working", async () => {
    const s1 = await registerUser(rt.app, "pw");
    const s2 = (await login(s1.username, s1.password)).json;
    const sock = await open(s2.access_token);
    const res = await call(rt.app, "PATCH", "/users/me", { token: s1.access_token, body: { password: NEW_PASSWORD, current_password: "not the password", bio: "nope" } });
    expect(res.status).toBe(400);
    expect((await me(s1.access_token)).json.bio).toBeNull();
    expect((await me(s2.access_token)).status).toBe(200);
    expect((await refresh(s2.refresh_token)).status).toBe(200);
    sock.send({ type: "ping", id: "alive" });
    expect((await sock.next((f) => f.type === "pong")).id).toBe("alive");
    expect((await login(s1.username, s1.password)).status).toBe(200);
  }, 30_000);

  test("a patch without a password answers as before: no session, nothing revoked", async () => {
    const s1 = await registerUser(rt.app, "pw");
    const res = await call(rt.app, "PATCH", "/users/me", { token: s1.access_token, body: { display_name: "Same Sessions" } });
    expect(res.status).toBe(200);
    expect(res.json.display_name).toBe("Same Sessions");
    expect(res.json.session).toBeUndefined();
    expect((await me(s1.access_token)).status).toBe(200);
    expect((await refresh(s1.refresh_token)).status).toBe(200);
  }, 30_000);

  test("changes racing each other with the same current password: one wins, the other is refused", async () => {
    const s1 = await registerUser(rt.app, "pw");
    const change = (password: string) => rt.services.auth.changePassword(s1.user.id, s1.password, password, null);
    const results = await Promise.allSettled([change("first new password"), change("second new password")]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(lost.reason.status).toBe(400);
    const wonWith = results[0]!.status === "fulfilled" ? "first new password" : "second new password";
    expect((await login(s1.username, wonWith)).status).toBe(200);
    expect((await me((results.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<{ access_token: string }>).value.access_token)).status).toBe(200);
  }, 30_000);
});
