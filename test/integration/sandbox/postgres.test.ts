/**
 * The sandbox contract on PostgreSQL, in a sandbox database and role unique to
 * this run (dropped afterwards), plus what only PostgreSQL can show: the app
 * database is out of reach, and the runner role itself is powerless.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { PostgresSandboxBackend } from "../../../src/sandbox/postgres-sandbox";
import { dropPostgresSandbox, resolveSandboxConfig, setupPostgresSandbox } from "../../../src/sandbox/postgres-setup";
import { RunnerPool } from "../../../src/sandbox/pool";
import { PostgresRunner } from "../../../src/sandbox/postgres-runner";
import { processRssKb } from "../../../src/sandbox/pglite-client";
import { openSandboxBackend, WeakSandboxError } from "../../../src/sandbox";
import { createTestDatabase, DATABASE_URL, postgresAvailable } from "../../helpers/services";
import { CLUBDATA_PATH } from "./clubdata-pack";
import { LIMITS, sandboxContract } from "./contract";

const ok = await postgresAvailable();
const suffix = Bun.randomUUIDv7().replaceAll("-", "").slice(-10);
const config = { adminUrl: DATABASE_URL, database: `huddle_sandbox_${suffix}`, role: `huddle_sandbox_runner_${suffix}` };

// Without the clubdata dump the contract skips; skip the outer beforeAll too, whose app database only the contract's close drops.
describe.skipIf(!ok || !CLUBDATA_PATH)("postgres sandbox", () => {
  let app: Awaited<ReturnType<typeof createTestDatabase>>;
  let admin: postgres.Sql;

  beforeAll(async () => {
    // An application database with a users table, and a users table an admin left in the sandbox database.
    app = await createTestDatabase("app");
    const appSql = postgres(app.url, { max: 1, onnotice: () => {} });
    await appSql`create table users (id int, username text)`;
    await appSql`insert into users values (1, 'secret-app-row')`;
    await appSql.end();
  });

  sandboxContract("contract", async () => {
    const backend = await PostgresSandboxBackend.open({ ...config, graceMs: 300 });
    const pool = new RunnerPool(backend, { size: 1, queueTimeoutMs: 500 });
    admin = postgres(resolveSandboxConfig(config).sandboxAdminUrl, { max: 1, onnotice: () => {} });
    await admin`create table public.users (id int, username text)`;
    await admin`insert into public.users values (1, 'secret-app-row')`;
    return {
      pool,
      runnerRole: config.role,
      footprint: async () => {
        const [{ n }] = await admin`select count(*)::int as n from pg_stat_activity where usename = ${config.role}`;
        return { count: n, rssKb: processRssKb(process.pid) };
      },
      close: async () => {
        await admin.end({ timeout: 1 });
        await pool.close();
        await dropPostgresSandbox(config);
        await app.drop();
      },
    };
  }, (harness) => describe("postgres only", () => {
    const raw = (sql: string) => harness().pool.run("cd", sql, LIMITS);

    test("the app database and tables outside the pack schemas are out of reach", async () => {
      const appDb = new URL(app.url).pathname.slice(1);
      expect(await raw(`select * from ${appDb}.public.users`)).toMatchObject({ ok: false, verdict: "sql_error", sqlstate: "0A000" });
      expect(await raw("select * from public.users")).toMatchObject({ ok: false, verdict: "sql_error", sqlstate: "42501" });
      expect(await raw("select * from users")).toMatchObject({ ok: false, verdict: "sql_error", sqlstate: "42P01" });
    });

    test("the runner role cannot change identity, signal or spy on other sessions", async () => {
      for (const sql of [
        "set role postgres",
        "select set_config('role', 'postgres', false)",
        "set session authorization postgres",
        "select pg_terminate_backend(1)",
        "select pg_cancel_backend(1)",
        "select query from pg_stat_activity",
        "select pg_read_file('postmaster.pid')",
      ]) {
        expect({ sql, outcome: await raw(sql) }).toMatchObject({ sql, outcome: { ok: false, verdict: "sql_error", sqlstate: "42501" } });
      }
    });

    test("the runner role has no CREATE or TEMP anywhere and is not a superuser", async () => {
      const o = await raw(`select has_database_privilege(current_database(), 'CREATE'), has_database_privilege(current_database(), 'TEMP'),
        has_schema_privilege('public', 'CREATE'), has_schema_privilege('cd', 'CREATE')`);
      expect(o).toMatchObject({ ok: true, rows: [["f", "f", "f", "f"]] });
      const [{ rolsuper }] = await admin`select rolsuper from pg_roles where rolname = ${config.role}`;
      expect(rolsuper).toBe(false);
    });

    test("a pool of two runs two jobs at once and counts no restarts for normal jobs", async () => {
      const pool2 = new RunnerPool(await PostgresSandboxBackend.open({ ...config, setup: false }), { size: 2, queueTimeoutMs: 2000 });
      try {
        const started = performance.now();
        // pg_sleep is revoked from PUBLIC (session.ts); this test lends it to the runner role.
        await admin.unsafe(`grant execute on function pg_catalog.pg_sleep(float8) to ${config.role}`);
        const jobs = [pool2.run("cd", "select pg_sleep(0.6)", LIMITS), pool2.run("cd", "select pg_sleep(0.6)", LIMITS)];
        expect(pool2.stats()).toMatchObject({ size: 2, busy: 2, queued: 0 });
        const third = pool2.run("cd", "select 3", LIMITS);
        expect(pool2.stats().queued).toBe(1);
        expect((await Promise.all(jobs)).map((o) => o.ok)).toEqual([true, true]);
        expect(performance.now() - started).toBeLessThan(1100);
        expect(await third).toMatchObject({ ok: true, rows: [["3"]] });
        expect(pool2.stats().restarts).toEqual([0, 0]);
      } finally {
        await admin.unsafe(`revoke execute on function pg_catalog.pg_sleep(float8) from ${config.role}`);
        await pool2.close();
      }
    });

    test("a sort spilling past temp_file_limit is resource_limit_exceeded (53400)", async () => {
      const spill = "select count(*) from (select repeat(g::text, 500) from generate_series(1, 600000) g order by 1) s";
      expect(await harness().pool.run("cd", spill, { timeoutMs: 30_000, maxRows: 10 })).toMatchObject({ ok: false, verdict: "resource_limit_exceeded", sqlstate: "53400" });
    }, 45_000);

    test("too deep a recursion is PostgreSQL's own stack depth error, 54001, on the same connection", async () => {
      const before = harness().pool.stats().restarts[0];
      expect(await raw("select repeat('[', 100000)::jsonb")).toMatchObject({ ok: false, verdict: "resource_limit_exceeded", sqlstate: "54001" });
      expect(harness().pool.stats().restarts[0]).toBe(before);
    });

    test("a job whose prologue fails (here: no such database) is internal_error, never blamed on the query", async () => {
      const runnerUrl = resolveSandboxConfig({ ...config, database: `${config.database}_missing` }).runnerUrl;
      const runner = new PostgresRunner(99, { runnerUrl, role: config.role, admin, graceMs: 300, setupTimeoutMs: 5000 });
      try {
        expect(await runner.run("cd", "select 1", LIMITS)).toMatchObject({ ok: false, verdict: "internal_error", sqlstate: "3D000" });
      } finally {
        await runner.close();
      }
    });

    test("a fully set up sandbox reports no weaknesses; a non-superuser admin's setup reports each one", async () => {
      const backend = await PostgresSandboxBackend.open({ ...config, setup: false });
      expect(backend.weaknesses()).toEqual([]);
      await backend.close();
      const weak = { database: `${config.database}_weak`, role: `${config.role}_weak` };
      const adminRole = `huddle_weak_admin_${suffix}`;
      await admin.unsafe(`create role ${adminRole} login createdb createrole`);
      const adminUrl = new URL(DATABASE_URL);
      adminUrl.username = adminRole;
      try {
        const managed = await PostgresSandboxBackend.open({ ...weak, adminUrl: adminUrl.toString() });
        const w = managed.weaknesses().join("\n");
        await managed.close();
        for (const what of ["pg_sleep", "pg_advisory_lock", "query_to_xml", "pg_stat_", "pg_stat_activity", "pg_database", "pg_roles", "plpgsql", "temp_file_limit"]) expect(w).toContain(what);
        // Production (refuseWeak) refuses that sandbox, naming the setting that would accept it; without it, it opens.
        const settings = { kind: "postgres" as const, adminUrl: adminUrl.toString(), ...weak };
        const refused = await openSandboxBackend(settings, { refuseWeak: true }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(WeakSandboxError);
        expect((refused as Error).message).toContain("SANDBOX_ALLOW_WEAK=1");
        expect((refused as Error).message).toContain("pg_advisory_lock");
        const accepted = await openSandboxBackend(settings, { refuseWeak: false });
        expect(accepted.weaknesses?.().length).toBeGreaterThan(0);
        await accepted.close();
      } finally {
        await dropPostgresSandbox({ ...weak, adminUrl: DATABASE_URL });
        await admin.unsafe(`drop role if exists ${adminRole}`);
      }
    });

    test("a hidden test copy granted to the runner role by an earlier version is moved to the hidden role at start-up", async () => {
      await admin.unsafe(`create schema legacy__t1; create table legacy__t1.answers (v int); insert into legacy__t1.answers values (42);
        grant usage on schema legacy__t1 to ${config.role}; grant select on all tables in schema legacy__t1 to ${config.role}`);
      try {
        const copy = "select v from legacy__t1.answers";
        expect(await raw(copy)).toMatchObject({ ok: true, rows: [["42"]] }); // as the earlier version left it
        await setupPostgresSandbox(config); // what every start runs
        expect(await raw(copy)).toMatchObject({ ok: false, verdict: "sql_error", sqlstate: "42501" });
        expect(await harness().pool.run("legacy__t1", copy, LIMITS)).toMatchObject({ ok: true, rows: [["42"]] });
      } finally {
        await admin.unsafe("drop schema legacy__t1 cascade");
      }
    });

    test("a timed-out query is cancelled on the server, not left running", async () => {
      const slow = "select count(*) from cd.bookings a, cd.bookings b, cd.bookings c, cd.bookings d";
      expect(await raw(slow)).toMatchObject({ ok: false, verdict: "time_limit_exceeded" });
      const [{ n }] = await admin`select count(*)::int as n from pg_stat_activity where usename = ${config.role} and query like '%bookings d%' and state = 'active'`;
      expect(n).toBe(0);
    });
  }));
});
