/**
 * Which client a request counts against (per-IP login/register/refresh
 * buckets): the socket address unless the peer is in TRUSTED_PROXIES, then the
 * right-most X-Forwarded-For address no trusted proxy vouches for; IPv6 by /64.
 * Over a real listening server (PGlite + memory engine); the peer is always
 * 127.0.0.1 here, so the pure resolver covers other peers (untrusted ones,
 * IPv6 and dual-stack sockets) below; limits-http.test.ts covers the default
 * (no trusted proxy: X-Forwarded-For ignored) over a socket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildTestApp, testConfig, type TestApp } from "../helpers/app";
import { clientIpResolver } from "../../src/lib/client-ip";
import { ConfigError } from "../../src/config";

const SLOW = 0.0001;
// One app for the file (PGlite starts in seconds): the peer 127.0.0.1 and 10/8 are trusted proxies.
let t: TestApp;
let n = 0;
beforeAll(async () => {
  t = await buildTestApp("pglite", { buckets: { "login-ip": { capacity: 2, refillPerSec: SLOW } }, config: { TRUSTED_PROXIES: "127.0.0.1, 10.0.0.0/8" } });
  t.app.listen({ port: 0, hostname: "127.0.0.1" });
});
afterAll(async () => {
  await t.app.stop(true);
  await t.close();
});

async function attempt(xff?: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${t.app.server!.port}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(xff === undefined ? {} : { "x-forwarded-for": xff }) },
    body: JSON.stringify({ username: `nobody${n++}`, password: "wrong password" }),
  });
  await res.text();
  return res.status;
}

describe("client address for per-IP limits", () => {
  test("behind a trusted proxy, each forwarded client has its own bucket; spoofed left entries do not move it", async () => {
    expect(await attempt("203.0.113.1")).toBe(401);
    expect(await attempt("203.0.113.1")).toBe(401);
    expect(await attempt("203.0.113.1")).toBe(429);
    // The client wrote the left entry itself; the proxy appended the real one on the right.
    expect(await attempt("198.51.100.7, 203.0.113.1")).toBe(429);
    expect(await attempt("203.0.113.2")).toBe(401);
    // No header from the trusted proxy: the proxy's own address is the client.
    expect(await attempt()).toBe(401);
  });

  test("a chain of trusted proxies is skipped from the right; the first untrusted address is the client", async () => {
    expect(await attempt("203.0.113.9, 10.1.2.3")).toBe(401);
    expect(await attempt("1.2.3.4, 203.0.113.9, 10.9.9.9, 10.1.2.3")).toBe(401);
    expect(await attempt("203.0.113.9")).toBe(429);
  });

  test("IPv6 clients share one bucket per /64", async () => {
    expect(await attempt("2001:db8:1:2::a")).toBe(401);
    expect(await attempt("2001:db8:1:2:ffff:ffff:ffff:b")).toBe(401);
    expect(await attempt("[2001:DB8:1:2::c]:4431")).toBe(429);
    expect(await attempt("2001:db8:1:3::a")).toBe(401);
  });

  test("the resolver, for peers a loopback test cannot be", () => {
    const resolve = clientIpResolver("10.0.0.0/8, fd00::/8");
    const from = (peer: string, xff?: string) =>
      resolve(new Request("http://h/", { headers: xff === undefined ? {} : { "x-forwarded-for": xff } }), { requestIP: () => ({ address: peer }) });
    expect(from("::ffff:10.0.0.5", "203.0.113.7")).toBe("203.0.113.7"); // dual-stack socket, IPv4 proxy
    expect(from("fd00::1", "203.0.113.8")).toBe("203.0.113.8");
    expect(from("2001:db8:aa:bb:1:2:3:4", "203.0.113.9")).toBe("2001:db8:aa:bb::/64"); // untrusted IPv6 peer
    expect(from("10.0.0.5", "10.0.0.7, 10.0.0.6")).toBe("10.0.0.7"); // all trusted: the left-most
    expect(from("10.0.0.5", "not-an-ip, 10.0.0.6")).toBe("10.0.0.6"); // garbage stops at the last trusted hop
    expect(from("10.0.0.5", "203.0.113.1:5555")).toBe("203.0.113.1");
    expect(from("198.51.100.1", "10.0.0.7")).toBe("198.51.100.1");
    expect(resolve(new Request("http://h/"), null)).toBe("local");
    // Default (empty): no address is trusted, not even loopback.
    expect(clientIpResolver("")(new Request("http://h/", { headers: { "x-forwarded-for": "203.0.113.1" } }), { requestIP: () => ({ address: "127.0.0.1" }) })).toBe("127.0.0.1");
  });

  test("TRUSTED_PROXIES must be IPs or CIDRs; a bad entry stops start-up naming it", () => {
    expect(testConfig({ TRUSTED_PROXIES: " 10.0.0.0/8 , 192.168.1.1, fd00::/8 " }).TRUSTED_PROXIES).toContain("10.0.0.0/8");
    for (const bad of ["10.0.0.0/33", "proxy.internal", "10.0.0.1/8/1", "fd00::/129"]) {
      expect(() => testConfig({ TRUSTED_PROXIES: bad })).toThrow(ConfigError);
      expect(() => testConfig({ TRUSTED_PROXIES: bad })).toThrow(/TRUSTED_PROXIES/);
    }
  });
});
