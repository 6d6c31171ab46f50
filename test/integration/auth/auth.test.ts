/**
 * Auth end to end through app.handle, one suite run against each database
 * driver (postgres.js and PGlite).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildTestApp, call, registerUser, type Driver, type TestApp } from "../../helpers/app";
import { postgresAvailable } from "../../helpers/services";
import { TokenService } from "../../../src/modules/auth/tokens";

const pgOk = await postgresAvailable();

for (const driver of ["postgres", "pglite"] as Driver[]) {
  describe.skipIf(driver === "postgres" && !pgOk)(`auth on ${driver}`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await buildTestApp(driver);
    }, 30_000);
    afterAll(async () => {
      await t?.close();
    });

    test("register returns a session and the user can read /users/me", async () => {
      const s = await registerUser(t.app);
      expect(s.user.username).toBe(s.username);
      expect(s.access_token.split(".")).toHaveLength(3);
      const me = await call(t.app, "GET", "/users/me", { token: s.access_token });
      expect(me.status).toBe(200);
      expect(me.json.id).toBe(s.user.id);
      expect(me.json.email).toBe(`${s.username}@example.com`);
      expect(me.json.password_hash).toBeUndefined();
    }, 30_000);

    test("login by username and by email, case-insensitively", async () => {
      const s = await registerUser(t.app);
      const byName = await call(t.app, "POST", "/auth/login", { body: { username: s.username.toUpperCase(), password: s.password } });
      expect(byName.status).toBe(200);
      const byEmail = await call(t.app, "POST", "/auth/login", { body: { username: `${s.username}@example.com`, password: s.password } });
      expect(byEmail.status).toBe(200);
      expect(byEmail.json.user.id).toBe(s.user.id);
    }, 30_000);

    test("bad credentials: same 401 whether the user exists or not", async () => {
      const s = await registerUser(t.app);
      const wrongPw = await call(t.app, "POST", "/auth/login", { body: { username: s.username, password: "wrong password!" } });
      const noUser = await call(t.app, "POST", "/auth/login", { body: { username: "nobody-here", password: "wrong password!" } });
      expect(wrongPw.status).toBe(401);
      expect(noUser.status).toBe(401);
      expect(wrongPw.json).toEqual(noUser.json);
      expect(wrongPw.json.error.code).toBe("invalid_credentials");
    }, 30_000);

    test("OAuth2 password form at /auth/token", async () => {
      const s = await registerUser(t.app);
      const form = new URLSearchParams({ grant_type: "password", username: s.username, password: s.password });
      const res = await t.app.handle(new Request("http://localhost/auth/token", {
        method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form,
      }));
      expect(res.status).toBe(200);
      const json = await res.json();
      expect(json.token_type).toBe("bearer");
      expect((await call(t.app, "GET", "/users/me", { token: json.access_token })).status).toBe(200);
    }, 30_000);

    test("refresh rotates; reusing a rotated token revokes the whole family", async () => {
      const s = await registerUser(t.app);
      const r1 = await call(t.app, "POST", "/auth/refresh", { body: { refresh_token: s.refresh_token } });
      expect(r1.status).toBe(200);
      expect(r1.json.refresh_token).not.toBe(s.refresh_token);
      const reuse = await call(t.app, "POST", "/auth/refresh", { body: { refresh_token: s.refresh_token } });
      expect(reuse.status).toBe(401);
      expect(reuse.json.error.code).toBe("token_reused");
      // The token issued by the legitimate rotation is dead too.
      const r2 = await call(t.app, "POST", "/auth/refresh", { body: { refresh_token: r1.json.refresh_token } });
      expect(r2.status).toBe(401);
    }, 30_000);

    test("logout revokes the refresh token", async () => {
      const s = await registerUser(t.app);
      const out = await call(t.app, "POST", "/auth/logout", { token: s.access_token, body: { refresh_token: s.refresh_token } });
      expect(out.status).toBe(204);
      expect((await call(t.app, "POST", "/auth/refresh", { body: { refresh_token: s.refresh_token } })).status).toBe(401);
    }, 30_000);

    test("expired, forged and alg:none tokens get 401", async () => {
      const s = await registerUser(t.app);
      const expired = await new TokenService(t.config.JWT_SECRET, 1, 60).signAccess(s.user.id);
      await Bun.sleep(2100);
      const e = await call(t.app, "GET", "/users/me", { token: expired });
      expect(e.status).toBe(401);
      expect(e.json.error.code).toBe("token_expired");
      const forged = await new TokenService("another-secret-another-secret-another", 60, 60).signAccess(s.user.id);
      expect((await call(t.app, "GET", "/users/me", { token: forged })).status).toBe(401);
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
      const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: s.user.id, typ: "access", exp: 9999999999 })}.`;
      expect((await call(t.app, "GET", "/users/me", { token: none })).status).toBe(401);
      expect((await call(t.app, "GET", "/users/me")).status).toBe(401);
    }, 30_000);

    test("validation errors are 400 and name the field", async () => {
      const res = await call(t.app, "POST", "/auth/register", { body: { username: "ok_name", email: "not-an-email", password: "longenough" } });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("validation_failed");
      expect(res.json.error.message).toContain("email");
      const short = await call(t.app, "POST", "/auth/register", { body: { username: "x", email: "a@b.co", password: "longenough" } });
      expect(short.status).toBe(400);
      expect(short.json.error.details.map((d: { field: string }) => d.field)).toContain("username");
      const broken = await call(t.app, "POST", "/auth/login", { raw: "{not json", headers: { "content-type": "application/json" } });
      expect(broken.status).toBe(400);
      expect(broken.json.error).toBeDefined();
    }, 30_000);

    test("duplicate username or email is 409", async () => {
      const s = await registerUser(t.app);
      const dupName = await call(t.app, "POST", "/auth/register", { body: { username: s.username.toUpperCase(), email: "fresh@example.com", password: "longenough" } });
      expect(dupName.status).toBe(409);
      expect(dupName.json.error.details.field).toBe("username");
      const dupMail = await call(t.app, "POST", "/auth/register", { body: { username: "fresh_one_" + Date.now(), email: `${s.username}@example.com`, password: "longenough" } });
      expect(dupMail.status).toBe(409);
      expect(dupMail.json.error.details.field).toBe("email");
    }, 30_000);

    test("oversized body is 413 with the error shape", async () => {
      const big = "x".repeat(t.config.MAX_BODY_BYTES + 10);
      const res = await call(t.app, "POST", "/auth/login", { raw: big, headers: { "content-type": "application/json", "content-length": String(big.length) } });
      expect(res.status).toBe(413);
      expect(res.json.error.code).toBe("payload_too_large");
    }, 30_000);

    test("users: search, by id, patch me", async () => {
      const a = await registerUser(t.app, "findme");
      const found = await call(t.app, "GET", `/users?search=${a.username.slice(0, 10)}`, { token: a.access_token });
      expect(found.status).toBe(200);
      expect(found.json.users.map((u: { id: string }) => u.id)).toContain(a.user.id);
      const one = await call(t.app, "GET", `/users/${a.user.id}`, { token: a.access_token });
      expect(one.json.username).toBe(a.username);
      expect(one.json.email).toBeUndefined();
      expect((await call(t.app, "GET", "/users/not-a-uuid", { token: a.access_token })).status).toBe(400);
      expect((await call(t.app, "GET", `/users/${Bun.randomUUIDv7()}`, { token: a.access_token })).status).toBe(404);
      const patched = await call(t.app, "PATCH", "/users/me", { token: a.access_token, body: { display_name: "Alice A." } });
      expect(patched.json.display_name).toBe("Alice A.");
      const badPw = await call(t.app, "PATCH", "/users/me", { token: a.access_token, body: { password: "newpassword1", current_password: "nope" } });
      expect(badPw.status).toBe(400);
    }, 30_000);

    test("unknown route is 404 in the error shape; health and ready answer", async () => {
      const res = await call(t.app, "GET", "/no/such/route");
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("not_found");
      expect((await call(t.app, "GET", "/health")).json.status).toBe("ok");
      const ready = await call(t.app, "GET", "/ready");
      expect(ready.status).toBe(200);
      expect(ready.json.checks.database.ok).toBe(true);
    }, 30_000);
  });
}

describe("auth rate limits", () => {
  test("login is limited per account with 429 and Retry-After", async () => {
    const t = await buildTestApp("pglite", { buckets: { "login-account": { capacity: 3, refillPerSec: 0.01 } } });
    try {
      const s = await registerUser(t.app);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await call(t.app, "POST", "/auth/login", { body: { username: s.username, password: "wrong password!" } })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const limited = await call(t.app, "POST", "/auth/login", { body: { username: s.username, password: s.password } });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(limited.json.error.code).toBe("rate_limited");
    } finally {
      await t.close();
    }
  }, 30_000);
});
