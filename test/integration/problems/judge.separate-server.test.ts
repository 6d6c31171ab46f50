/**
 * The recommended production shape (README: "The SQL sandbox on its own
 * server"): SANDBOX_DATABASE_URL points at another PostgreSQL server. The judge
 * sets its database and runner role up there from scratch, judges there, and
 * leaves the application's server untouched: no sandbox database, no runner
 * session, and no submission ever sees the application's databases.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { sql } from "drizzle-orm";
import { call, registerUser } from "../../helpers/app";
import { buildTestRuntime, type TestRuntime } from "../../helpers/runtime";
import { DATABASE_URL, postgresAvailable } from "../../helpers/services";
import { secondPostgresAvailable, startSecondPostgres, type SecondPostgres } from "../../helpers/second-postgres";
import { defaultPack } from "../../../src/judge/default-pack";

const ok = (await postgresAvailable()) && secondPostgresAvailable();

describe.skipIf(!ok)("SQL judge with the sandbox on its own PostgreSQL server", () => {
  let pg2: SecondPostgres;
  let rt: TestRuntime;
  let appDatabase: string;
  const easy = defaultPack().pack.problems[0]!;

  beforeAll(async () => {
    pg2 = await startSecondPostgres();
    // The database does not exist yet on the new server: the judge creates it and its role at start.
    rt = await buildTestRuntime("postgres", { config: { SANDBOX_BACKEND: "postgres", SANDBOX_DATABASE_URL: pg2.url("huddle_sandbox"), WORKER_CONCURRENCY: "1", RUNNER_POOL_SIZE: "2" } });
    const [row] = (await rt.database.db.execute(sql`select current_database() as name`)) as unknown as { name: string }[];
    appDatabase = row!.name;
  }, 120_000);
  afterAll(async () => {
    await rt?.close();
    await pg2?.stop();
  });

  async function judge(token: string, sql: string) {
    const sub = await call(rt.app, "POST", "/problems/submit", { token, body: { problem_id: easy.id, sql_query: sql } });
    expect(sub.status).toBe(202);
    for (let i = 0; i < 600; i++) {
      const r = await call(rt.app, "GET", `/problems/result/${sub.json.job_id}`, { token });
      if (r.json?.status === "completed" || r.json?.status === "failed") return r.json;
      await Bun.sleep(100);
    }
    throw new Error("no verdict in 60 s");
  }

  test("submissions are judged on the sandbox server", async () => {
    const u = await registerUser(rt.app);
    // The catalog is imported into the sandbox at start; wait until the problem is listed.
    for (let i = 0; i < 600 && !(await call(rt.app, "GET", `/problems/${easy.id}`, { token: u.access_token })).json?.tables; i++) await Bun.sleep(100);
    expect(await judge(u.access_token, easy.solution)).toMatchObject({ status: "completed", verdict: "accepted" });
    expect((await judge(u.access_token, "select 1 as x where false")).verdict).toBe("wrong_answer");
  }, 90_000);

  test("the sandbox database, its role and the runner sessions live on the sandbox server only", async () => {
    const sandbox = postgres(pg2.url("postgres"), { max: 1, onnotice: () => {} });
    const app = postgres(DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const dbs = (await sandbox`select datname from pg_database`).map((r) => r.datname);
      expect(dbs).toContain("huddle_sandbox");
      // Nothing of the application is on the sandbox server, so no query there can reach it.
      expect(dbs).not.toContain(appDatabase);
      expect((await sandbox`select count(*)::int as n from pg_roles where rolname = 'huddle_sandbox_runner'`)[0]!.n).toBe(1);
      const runners = await sandbox`select count(*)::int as n from pg_stat_activity where usename = 'huddle_sandbox_runner' and datname = 'huddle_sandbox'`;
      expect(runners[0]!.n).toBeGreaterThan(0);
      // The default shape would have made "<app database>_sandbox" on the application's server.
      expect(await app`select 1 from pg_database where datname = ${`${appDatabase}_sandbox`}`).toHaveLength(0);
      expect(await app`select 1 from pg_stat_activity where datname = ${appDatabase} and usename = 'huddle_sandbox_runner'`).toHaveLength(0);
    } finally {
      await sandbox.end({ timeout: 1 });
      await app.end({ timeout: 1 });
    }
  });

  test("a submission cannot name the application's database or tables", async () => {
    const u = await registerUser(rt.app);
    const crossDb = await judge(u.access_token, `select * from ${appDatabase}.public.users`);
    expect(crossDb.verdict).not.toBe("accepted");
    const users = await judge(u.access_token, "select * from users");
    expect(users.verdict).toBe("sql_error");
    expect(JSON.stringify(users)).not.toContain("password_hash");
  }, 60_000);
});
