/**
 * The one place that decides which client a request comes from, for the
 * per-IP rate limits. X-Forwarded-For is written by whoever sends the request,
 * so it is believed only when the direct peer is a proxy listed in
 * TRUSTED_PROXIES, and then only up to the right-most address that no trusted
 * proxy vouches for (everything left of it is the client's own claim). An
 * IPv6 client usually owns a whole /64, so it gets one bucket per /64 rather
 * than 2^64 of them.
 */
import { BlockList, isIP } from "node:net";

export type PeerSource = { requestIP(request: Request): { address: string } | null };
/** Bucket id of the client that sent `request` ("local" when there is no socket, e.g. app.handle in tests). */
export type ClientIp = (request: Request, server: PeerSource | null | undefined) => string;

/** Parses "10.0.0.1, 10.1.0.0/16, fd00::/8"; throws naming the first entry that is not an IP or CIDR. */
export function parseTrustedProxies(spec: string): BlockList {
  const list = new BlockList();
  for (const entry of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [addr = "", bits, extra] = entry.split("/");
    const ip = normalizeIp(addr);
    const family = ip ? (isIP(ip) === 4 ? "ipv4" : "ipv6") : null;
    const max = family === "ipv4" ? 32 : 128;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!ip || !family || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
      throw new Error(`"${entry}" is not an IP address or CIDR range`);
    }
    list.addSubnet(ip, prefix, family);
  }
  return list;
}

export function clientIpResolver(trustedProxies: string): ClientIp {
  const trusted = parseTrustedProxies(trustedProxies);
  const anyTrusted = trustedProxies.trim() !== "";
  const isTrusted = (ip: string) => trusted.check(ip, isIP(ip) === 4 ? "ipv4" : "ipv6");
  return (request, server) => {
    const peer = normalizeIp(server?.requestIP(request)?.address ?? "");
    if (!peer) return "local";
    if (!anyTrusted || !isTrusted(peer)) return bucketId(peer);
    const hops = (request.headers.get("x-forwarded-for") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const ip = normalizeIp(hops[i]!);
      // Garbage in the header: stop at the last trusted hop rather than let the sender pick a bucket.
      if (!ip) break;
      client = ip;
      if (!isTrusted(ip)) break;
    }
    return bucketId(client);
  };
}

/** IPv4 as is; IPv6 as its /64 prefix, e.g. "2001:db8:1:2::/64". */
export function bucketId(ip: string): string {
  const groups = ipv6Groups(ip);
  if (!groups) return ip;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/**
 * A plain address from what sockets and proxies write: brackets, ports and
 * zone ids removed, IPv4-mapped IPv6 (::ffff:1.2.3.4, how dual-stack sockets
 * report IPv4 peers) turned back into IPv4. Null when it is not an address.
 */
export function normalizeIp(raw: string): string | null {
  let s = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  s = s.replace(/%.*$/, "").toLowerCase();
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6) return null;
  const g = ipv6Groups(s)!;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join(".");
  return s;
}

/** The eight 16-bit groups of a valid IPv6 address (null for anything else). */
function ipv6Groups(ip: string): number[] | null {
  if (isIP(ip) !== 6) return null;
  let s = ip;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = s.split("::");
  const parts = (x: string) => (x ? x.split(":").map((h) => parseInt(h, 16)) : []);
  const left = parts(head);
  const right = tail === undefined ? [] : parts(tail);
  return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
}
