/**
 * Access to the real Redis and PostgreSQL that tests talk to.
 *
 * Tests that need a service call `redisAvailable()` / `postgresAvailable()` at
 * module load and use `describe.skipIf(!ok)`. When a service is missing the
 * skip is announced on stderr, and with REQUIRE_SERVICES=1 (CI) the check
 * throws instead, so a missing service fails the run rather than hiding tests.
 */
import Redis from "ioredis";
import postgres from "postgres";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const DATABASE_URL =
  process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const required = process.env.REQUIRE_SERVICES === "1";

async function probe(name: string, check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (err) {
    const msg = `${name} unreachable: ${(err as Error).message}`;
    if (required) throw new Error(`REQUIRE_SERVICES=1 but ${msg}`);
    console.error(`SKIP: ${msg} (tests that need it are skipped)`);
    return false;
  }
}

let redisOk: Promise<boolean> | undefined;
export function redisAvailable(): Promise<boolean> {
  redisOk ??= probe("Redis", async () => {
    const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    try {
      await r.connect();
      await r.ping();
    } finally {
      r.disconnect();
    }
  });
  return redisOk;
}

let pgOk: Promise<boolean> | undefined;
export function postgresAvailable(): Promise<boolean> {
  pgOk ??= probe("PostgreSQL", async () => {
    const sql = postgres(DATABASE_URL, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await sql`select 1`;
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
  return pgOk;
}

/** A URL for Redis logical database `db` (1..15), so a test file can FLUSHDB its own db only. Not 12: scripts/smoke.sh flushes that one. */
export function redisDbUrl(db: number): string {
  const u = new URL(REDIS_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

/**
 * Creates a fresh, uniquely named PostgreSQL database and returns its URL and a
 * drop function. Each test file gets its own database so files can run in any
 * order and in parallel processes without seeing each other's rows.
 */
export async function createTestDatabase(label = "t"): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `huddle_${label}_${Bun.randomUUIDv7().replaceAll("-", "").slice(-12)}`.toLowerCase();
  const admin = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end({ timeout: 1 });
  const u = new URL(DATABASE_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const a = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
        // The judge keeps its sandbox in "<app database>_sandbox" when it ran against this one.
        await a.unsafe(`drop database if exists ${name}_sandbox with (force)`);
      } finally {
        await a.end({ timeout: 1 });
      }
    },
  };
}
