/**
 * One-time setup of the PostgreSQL sandbox: a dedicated database and a LOGIN
 * role that can connect only to it and (after a pack load) only SELECT the
 * pack schemas. `huddle migrate` runs setupPostgresSandbox when its admin URL
 * has the rights; otherwise an operator runs sandboxSetupSql() by hand
 * (README). The separate identity is the boundary, never SET ROLE (DESIGN §7).
 *
 * What the role cannot do and why:
 * - read application tables: they live in another database, and the runner
 *   connection is pinned to the sandbox database (a query cannot switch
 *   databases; dblink is not installed and the role cannot CREATE EXTENSION);
 *   operators should also `REVOKE CONNECT ON DATABASE <app> FROM PUBLIC` so the
 *   role could not log into it even with its credentials (not done here: it
 *   would lock out other roles the app database relies on);
 * - create anything: no CREATE on the database or the public schema, no TEMP
 *   (REVOKE ALL ON DATABASE ... FROM PUBLIC removes the default TEMP grant);
 * - write: only USAGE + SELECT are granted, and every job is a READ ONLY
 *   transaction (also the role's default) that is rolled back;
 * - read files, change roles: not superuser, no pg_* roles, no membership
 *   in any role, so RESET ROLE/SET ROLE change nothing;
 * - disturb or spy on other jobs (all runners share the role), undo our
 *   settings, run procedural code: see REVOKED_FUNCTIONS (session.ts), revoked
 *   from PUBLIC in the sandbox database only (pg_proc is per database).
 */
import postgres from "postgres";
import { assertIdent, grantReadSql, hiddenRoleOf, isHiddenTestSchema, revokeFromPublicSql, TEMP_FILE_LIMIT } from "./session";

export interface PostgresSandboxConfig {
  /** A role that can create databases and roles (a superuser locally). */
  adminUrl: string;
  /** The sandbox database, default `huddle_sandbox`. */
  database?: string;
  /** The runner role, default `huddle_sandbox_runner`. */
  role?: string;
  /** The runner role's password; leave out under trust/peer auth. */
  password?: string;
}

export interface ResolvedSandboxConfig {
  database: string;
  role: string;
  password?: string;
  /** Admin, connected to the admin URL's own database (for CREATE/DROP DATABASE). */
  clusterAdminUrl: string;
  /** Admin, connected to the sandbox database (pack loads, cancel/terminate). */
  sandboxAdminUrl: string;
  /** The runner role, connected to the sandbox database. */
  runnerUrl: string;
}

export function resolveSandboxConfig(c: PostgresSandboxConfig): ResolvedSandboxConfig {
  const database = c.database ?? "huddle_sandbox";
  const role = c.role ?? "huddle_sandbox_runner";
  assertIdent(database, "sandbox database");
  assertIdent(role, "sandbox role");
  assertIdent(hiddenRoleOf(role), "sandbox role (with _hidden; 56 characters at most)");
  const admin = new URL(c.adminUrl);
  admin.pathname = `/${database}`;
  const runner = new URL(admin);
  runner.username = role;
  runner.password = c.password ?? "";
  // SANDBOX_DATABASE_URL names the sandbox database itself, which does not exist on a new server and
  // cannot be dropped from a session inside it: cluster-level statements go through `postgres` then.
  const cluster = new URL(c.adminUrl);
  if (cluster.pathname.slice(1) === database) cluster.pathname = "/postgres";
  return { database, role, password: c.password, clusterAdminUrl: cluster.toString(), sandboxAdminUrl: admin.toString(), runnerUrl: runner.toString() };
}

const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

export interface SandboxSetupSql {
  /** Run in any database of the cluster. */
  cluster: string[];
  /** Run in the sandbox database. */
  sandbox: string[];
  /** Need a superuser: skipped (with the rest applied) when the admin URL is not one. */
  superuserCluster: string[];
  superuserSandbox: string[];
}

/** The SQL an operator runs when the app's database user lacks CREATEROLE/CREATEDB (README). */
export function sandboxSetupSql(c: PostgresSandboxConfig): SandboxSetupSql {
  const r = resolveSandboxConfig(c);
  const role = assertIdent(r.role, "role");
  const hidden = assertIdent(hiddenRoleOf(r.role), "role");
  const db = assertIdent(r.database, "database");
  const password = r.password ? ` PASSWORD ${literal(r.password)}` : "";
  return {
    cluster: [
      `CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 64${password}`,
      `ALTER ROLE ${role} SET default_transaction_read_only = on`,
      `ALTER ROLE ${role} SET statement_timeout = '30s'`,
      `ALTER ROLE ${role} SET idle_in_transaction_session_timeout = '60s'`,
      // Hidden test copies are granted to this role only; the runner steps into it for a hidden test's run (session.ts).
      `CREATE ROLE ${hidden} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS`,
      `GRANT ${hidden} TO ${role}`,
      `CREATE DATABASE ${db}`,
      `REVOKE ALL ON DATABASE ${db} FROM PUBLIC`,
      `GRANT CONNECT ON DATABASE ${db} TO ${role}`,
    ],
    sandbox: [`REVOKE ALL ON SCHEMA public FROM PUBLIC`, `REVOKE ALL ON SCHEMA public FROM ${role}`],
    superuserCluster: [`ALTER ROLE ${role} SET temp_file_limit = '${TEMP_FILE_LIMIT}'`],
    superuserSandbox: [revokeFromPublicSql()],
  };
}

// 23505: the unique-index error of the loser when two instances create the same role or grant the same membership at once.
const ALREADY_EXISTS = new Set(["42710", "42P04", "23505"]);

/** Idempotent: creates what is missing, re-applies grants and revokes. Safe to run at every start. */
export async function setupPostgresSandbox(c: PostgresSandboxConfig): Promise<ResolvedSandboxConfig> {
  const r = resolveSandboxConfig(c);
  const { cluster, sandbox, superuserCluster, superuserSandbox } = sandboxSetupSql(c);
  let superuser = false;
  const admin = postgres(r.clusterAdminUrl, { max: 1, onnotice: () => {} });
  try {
    const [{ role_exists, db_exists, is_super }] = await admin`
      select exists(select 1 from pg_roles where rolname = ${r.role}) as role_exists,
             exists(select 1 from pg_database where datname = ${r.database}) as db_exists,
             (select rolsuper from pg_roles where rolname = current_user) as is_super`;
    for (const stmt of cluster) {
      if (role_exists && stmt.startsWith(`CREATE ROLE "${r.role}" `)) continue;
      if (db_exists && stmt.startsWith("CREATE DATABASE")) continue;
      await ignoreExisting(admin.unsafe(stmt));
    }
    if (role_exists && r.password) await admin.unsafe(`ALTER ROLE ${assertIdent(r.role, "role")} PASSWORD ${literal(r.password)}`);
    superuser = is_super;
    // temp_file_limit bounds the disk a huge sort or hash may use; only a superuser may set it.
    if (superuser) for (const stmt of superuserCluster) await admin.unsafe(stmt);
  } finally {
    await admin.end({ timeout: 1 });
  }
  const inSandbox = postgres(r.sandboxAdminUrl, { max: 1, onnotice: () => {} });
  try {
    for (const stmt of [...sandbox, ...(superuser ? superuserSandbox : [])]) await inSandbox.unsafe(stmt);
    await moveHiddenCopies(inSandbox, r.role);
  } finally {
    await inSandbox.end({ timeout: 1 });
  }
  return r;
}

/** Hidden test copies loaded before the hidden role existed were granted to the runner role: move them to the hidden role. */
async function moveHiddenCopies(sql: postgres.Sql, runnerRole: string): Promise<void> {
  const role = assertIdent(runnerRole, "role");
  const schemas = await sql<{ name: string }[]>`select nspname as name from pg_namespace`;
  for (const { name } of schemas.filter((s) => isHiddenTestSchema(s.name))) {
    const schema = assertIdent(name, "schema");
    await sql.unsafe(`revoke all on all tables in schema ${schema} from ${role}; revoke all on schema ${schema} from ${role}; ${grantReadSql(name, hiddenRoleOf(runnerRole))}`);
  }
}

async function ignoreExisting(q: Promise<unknown>): Promise<void> {
  try {
    await q;
  } catch (err) {
    // Two processes starting at once may both try to create the role or database.
    if (!ALREADY_EXISTS.has((err as { code?: string }).code ?? "")) throw err;
  }
}

/** Drops the sandbox database and role (tests, uninstall). */
export async function dropPostgresSandbox(c: PostgresSandboxConfig): Promise<void> {
  const r = resolveSandboxConfig(c);
  const admin = postgres(r.clusterAdminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${assertIdent(r.database, "database")} WITH (FORCE)`);
    await admin.unsafe(`DROP ROLE IF EXISTS ${assertIdent(r.role, "role")}`);
    await admin.unsafe(`DROP ROLE IF EXISTS ${assertIdent(hiddenRoleOf(r.role), "role")}`);
  } finally {
    await admin.end({ timeout: 1 });
  }
}
