/**
 * Response headers: the CORS allow-list from CORS_ORIGINS (an allowed origin
 * is echoed, on errors too; any other origin, "null", or a near miss gets no
 * Access-Control-Allow-Origin; preflights) and the security headers of the
 * web client and the API (CSP without 'unsafe-inline' scripts, nosniff,
 * framing forbidden, Referrer-Policy).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { buildTestApp, call, registerUser, type TestApp } from "../helpers/app";

const GOOD = "https://good.example";

function csp(header: string | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of (header ?? "").split(";")) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) out.set(name.toLowerCase(), values);
  }
  return out;
}

function expectSecurityHeaders(h: Headers, what: string) {
  expect(h.get("x-content-type-options"), what).toBe("nosniff");
  expect(["no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"], what).toContain(h.get("referrer-policy") ?? "");
  const policy = csp(h.get("content-security-policy"));
  expect(policy.has("default-src"), what).toBe(true);
  const framing = policy.get("frame-ancestors")?.join(" ") === "'none'" || h.get("x-frame-options") === "DENY";
  expect(framing, what).toBe(true);
  return policy;
}

describe("CORS allow-list", () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await buildTestApp("pglite", { config: { CORS_ORIGINS: `${GOOD}, https://also.example`, MAX_BODY_BYTES: "2048" } });
    token = (await registerUser(t.app)).access_token;
  }, 30_000);
  afterAll(async () => {
    await t?.close();
  });

  test("an allowed origin is echoed with Vary: Origin, on successes and on every kind of error", async () => {
    const cases: [string, string, Record<string, string>, string?][] = [
      ["GET", "/health", {}],
      ["GET", "/users/me", { authorization: `Bearer ${token}` }],
      ["GET", "/users/me", {}],
      ["GET", "/no/such/route", {}],
      ["POST", "/rooms", { authorization: `Bearer ${token}`, "content-type": "application/json" }, "{broken"],
      ["POST", "/rooms", { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": "3012" }, JSON.stringify({ name: "x".repeat(3000) })],
    ];
    const statuses: number[] = [];
    for (const origin of [GOOD, "https://also.example"]) {
      for (const [method, path, headers, raw] of cases) {
        const res = await call(t.app, method, path, { headers: { ...headers, origin }, raw });
        statuses.push(res.status);
        expect(res.headers.get("access-control-allow-origin"), `${method} ${path} ${res.status}`).toBe(origin);
        expect(res.headers.get("vary") ?? "", path).toContain("Origin");
        expect(res.headers.get("access-control-allow-credentials")).toBeNull();
      }
    }
    expect([...new Set(statuses)].sort()).toEqual([200, 400, 401, 404, 413]);
  }, 15_000);

  test("any other origin gets no CORS headers at all, however close it looks", async () => {
    for (const origin of ["https://evil.example", "null", "http://good.example", "https://good.example.evil.example", "https://good.example:444", `${GOOD}/`, "https://GOOD.example", "*"]) {
      for (const [method, path] of [["GET", "/health"], ["GET", "/users/me"]] as const) {
        const res = await call(t.app, method, path, { headers: { origin } });
        expect(res.headers.get("access-control-allow-origin"), `${origin} ${path}`).toBeNull();
        expect(res.status).toBeLessThan(500);
      }
      const pre = await call(t.app, "OPTIONS", "/chat/send", { headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } });
      expect(pre.headers.get("access-control-allow-origin"), origin).toBeNull();
      expect(pre.headers.get("access-control-allow-methods"), origin).toBeNull();
      expect(pre.status).toBeLessThan(500);
    }
  }, 15_000);

  test("a preflight from an allowed origin is answered 204 with methods, headers and a max age", async () => {
    const pre = await call(t.app, "OPTIONS", "/chat/send", { headers: { origin: GOOD, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(GOOD);
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
    expect(pre.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    expect(Number(pre.headers.get("access-control-max-age"))).toBeGreaterThan(0);
  }, 15_000);

  test("with CORS_ORIGINS empty, no origin is allowed", async () => {
    const closed = await buildTestApp("pglite");
    try {
      const res = await call(closed.app, "GET", "/health", { headers: { origin: GOOD } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      const pre = await call(closed.app, "OPTIONS", "/health", { headers: { origin: GOOD, "access-control-request-method": "GET" } });
      expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await closed.close();
    }
  }, 30_000);
});

describe("security headers", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp("pglite");
  }, 30_000);
  afterAll(async () => {
    await t?.close();
  });

  test("the web client page: strict CSP without inline scripts, nosniff, no framing, Referrer-Policy", async () => {
    for (const encoding of ["gzip", "identity"]) {
      const res = await t.app.handle(new Request("http://localhost/", { headers: { "accept-encoding": encoding } }));
      expect(res.status).toBe(200);
      const policy = expectSecurityHeaders(res.headers, `GET / (${encoding})`);
      const scripts = policy.get("script-src") ?? policy.get("default-src")!;
      expect(scripts).not.toContain("'unsafe-inline'");
      expect(scripts).not.toContain("'unsafe-eval'");
      expect(scripts).not.toContain("*");
      expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
      expect(policy.get("base-uri")).toEqual(["'none'"]);
      // The page must work under that policy: no inline script or handler for the CSP to block.
      const bytes = new Uint8Array(await res.arrayBuffer());
      const html = new TextDecoder().decode(res.headers.get("content-encoding") === "gzip" ? gunzipSync(bytes) : bytes);
      const tags = html.match(/<script\b[^>]*>/gi) ?? [];
      expect(tags.length).toBeGreaterThan(0);
      for (const tag of tags) expect(tag).toMatch(/\ssrc=/i);
      expect(html).not.toMatch(/<script\b[^>]*>\s*[^<\s]/i);
      expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    }
  }, 15_000);

  test("the same headers on assets, API answers and errors", async () => {
    const page = await t.app.handle(new Request("http://localhost/"));
    const src = (await page.text()).match(/<script\b[^>]*src="([^"]+)"/i)?.[1] ?? "/assets/app.js";
    for (const [method, path] of [["GET", src], ["GET", "/health"], ["GET", "/users/me"], ["GET", "/nope"], ["POST", "/auth/login"]] as const) {
      const res = await call(t.app, method, path, method === "POST" ? { raw: "{", headers: { "content-type": "application/json" } } : {});
      const policy = expectSecurityHeaders(res.headers, `${method} ${path} ${res.status}`);
      expect(policy.get("script-src") ?? [], path).not.toContain("'unsafe-inline'");
    }
  }, 15_000);

  test("only the docs page relaxes script-src, and it still cannot be framed", async () => {
    const res = await call(t.app, "GET", "/swagger");
    expect(res.status).toBe(200);
    const policy = expectSecurityHeaders(res.headers, "GET /swagger");
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
    expect(policy.get("connect-src")).toEqual(["'self'"]);
  }, 15_000);
});
