/**
 * Bench fixtures on a running Huddle: users, rooms and the shared env.
 *
 * Users are inserted straight into PostgreSQL with one precomputed argon2id
 * hash and get access tokens from Huddle's own TokenService with the bench's
 * JWT secret: registering through the API costs ~175 ms of argon2 each on
 * this machine, which would eat the quick run's budget for 200 users. A few
 * users are still registered through POST /auth/register (see memory.ts), so
 * that path is exercised too.
 */
import postgres from "postgres";
import { TokenService } from "../../src/modules/auth/tokens";
import { hashPassword } from "../../src/modules/auth/service";
import { JWT_SECRET } from "./procs";

export type BenchUser = { id: string; token: string; username: string };

export const TOKEN_TTL_SEC = 86_400;

/** Environment for every bench Huddle instance besides the store URLs. */
export function huddleEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { ACCESS_TOKEN_TTL_SEC: String(TOKEN_TTL_SEC), RATE_LIMIT_SCALE: "1000000", MAX_SOCKETS_PER_USER: "1000", ...extra };
}

let seq = 0;
export async function seedUsers(databaseUrl: string, n: number, prefix = "bench"): Promise<BenchUser[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const tokens = new TokenService(JWT_SECRET, TOKEN_TTL_SEC, 3600);
  const hash = await hashPassword("correct horse battery staple");
  const run = `${Date.now().toString(36)}${(seq++).toString(36)}`;
  try {
    const rows = Array.from({ length: n }, (_, i) => {
      const username = `${prefix}_${run}_${i}`;
      return { id: Bun.randomUUIDv7(), username, email: `${username}@bench.invalid`, password_hash: hash };
    });
    for (let i = 0; i < rows.length; i += 1000) await sql`insert into users ${sql(rows.slice(i, i + 1000))}`;
    return Promise.all(rows.map(async (r) => ({ id: r.id, username: r.username, token: await tokens.signAccess(r.id) })));
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export async function api(base: string, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, json, text };
}

/** Rooms of `size` consecutive users, created through POST /rooms by their first member. */
export async function createRooms(base: string, users: BenchUser[], size: number): Promise<string[]> {
  const rooms: string[] = [];
  for (let i = 0; i + size <= users.length; i += size) {
    const group = users.slice(i, i + size);
    const res = await api(base, "POST", "/rooms", { name: `bench room ${i / size}`, members: group.slice(1).map((u) => u.id) }, group[0]!.token);
    if (res.status !== 201) throw new Error(`POST /rooms: ${res.status} ${res.text}`);
    rooms.push(res.json.id);
  }
  return rooms;
}

/** Registers through the API (argon2 included), as a real client would. */
export async function registerUsers(base: string, n: number, prefix = "benchreg"): Promise<BenchUser[]> {
  const run = `${Date.now().toString(36)}${(seq++).toString(36)}`;
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    const username = `${prefix}${run}${i}`;
    const res = await api(base, "POST", "/auth/register", { username, email: `${username}@bench.invalid`, password: "correct horse battery staple" });
    if (res.status !== 201) throw new Error(`register: ${res.status} ${res.text}`);
    return { id: res.json.user.id, token: res.json.access_token, username };
  }));
}
