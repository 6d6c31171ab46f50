import { describe, expect, test } from "bun:test";
import { resolveSandboxConfig, sandboxSetupSql } from "../../../src/sandbox/postgres-setup";
import { jobPrologue, sqlErrorOutcome } from "../../../src/sandbox/session";

describe("postgres sandbox configuration", () => {
  test("defaults: huddle_sandbox database, huddle_sandbox_runner role, runner URL without a password", () => {
    const r = resolveSandboxConfig({ adminUrl: "postgres://admin:pw@db.internal:5433/app" });
    expect(r.database).toBe("huddle_sandbox");
    expect(r.role).toBe("huddle_sandbox_runner");
    expect(r.sandboxAdminUrl).toBe("postgres://admin:pw@db.internal:5433/huddle_sandbox");
    expect(r.runnerUrl).toBe("postgres://huddle_sandbox_runner@db.internal:5433/huddle_sandbox");
    expect(r.clusterAdminUrl).toBe("postgres://admin:pw@db.internal:5433/app");
  });

  test("a password goes into the runner URL (encoded) and into CREATE ROLE (quoted)", () => {
    const c = { adminUrl: "postgres://postgres@localhost/postgres", password: "it's @secret" };
    expect(resolveSandboxConfig(c).runnerUrl).toBe("postgres://huddle_sandbox_runner:it's%20%40secret@localhost/huddle_sandbox");
    expect(sandboxSetupSql(c).cluster[0]).toEndWith("PASSWORD 'it''s @secret'");
  });

  test("names are plain identifiers only, so they can be interpolated", () => {
    expect(() => resolveSandboxConfig({ adminUrl: "postgres://x@h/db", role: 'evil"; drop role x; --' })).toThrow(/sandbox role/);
    expect(() => resolveSandboxConfig({ adminUrl: "postgres://x@h/db", database: "Sandbox" })).toThrow(/sandbox database/);
  });

  test("the operator SQL creates a login role with nothing but CONNECT on its own database", () => {
    const sql = sandboxSetupSql({ adminUrl: "postgres://postgres@localhost/postgres" });
    expect(sql.cluster[0]).toMatch(/^CREATE ROLE "huddle_sandbox_runner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS/);
    expect(sql.cluster).toContain('REVOKE ALL ON DATABASE "huddle_sandbox" FROM PUBLIC');
    expect(sql.cluster).toContain('GRANT CONNECT ON DATABASE "huddle_sandbox" TO "huddle_sandbox_runner"');
    expect(sql.sandbox).toContain("REVOKE ALL ON SCHEMA public FROM PUBLIC");
    expect(sql.superuserSandbox.join("\n")).toMatch(/set_config.*pg_cancel_backend.*pg_terminate_backend.*\^@ ANY \(ARRAY\['pg_sleep', 'pg_advisory'.*'pg_stat_'.*'query_to_xml'/s);
    expect(sql.superuserSandbox.join("\n")).toMatch(/REVOKE SELECT ON %s FROM PUBLIC.*/s);
    expect(sql.superuserSandbox.join("\n")).toMatch(/'pg_database', 'pg_roles'/);
  });

  test("every job starts read-only with its own statement_timeout and output settings", () => {
    const p = jobPrologue("cd", { timeoutMs: 1500.2, maxRows: 10 }, { login: "huddle_sandbox_runner" }).split(";\n");
    expect(p[0]).toBe("begin transaction read only");
    expect(p).toContain("set local statement_timeout = 1501");
    expect(p).toContain('set local search_path = "cd"');
    expect(p).toContain("set local timezone = 'UTC'");
    expect(() => jobPrologue('cd"; drop', { timeoutMs: 1, maxRows: 1 }, { login: "r" })).toThrow(/schema/);
  });

  test("only PGlite's superuser session sets temp_file_limit, before it steps down to the runner role", () => {
    const p = jobPrologue("cd", { timeoutMs: 1, maxRows: 1 }, { superuser: "huddle_runner" }).split(";\n");
    const limit = p.indexOf("set local temp_file_limit = '256MB'");
    expect(limit).toBeGreaterThan(0);
    expect(limit).toBeLessThan(p.indexOf('set local role "huddle_runner"'));
    // The PostgreSQL runner role may not set it (42501): it has it from ALTER ROLE.
    expect(jobPrologue("cd", { timeoutMs: 1, maxRows: 1 }, { login: "huddle_sandbox_runner" })).not.toContain("temp_file_limit");
    expect(sandboxSetupSql({ adminUrl: "postgres://postgres@localhost/postgres" }).superuserCluster).toContain(`ALTER ROLE "huddle_sandbox_runner" SET temp_file_limit = '256MB'`);
  });

  test("a hidden test copy (<schema>__t<n>) is read as the hidden role; any other schema as the runner role itself", () => {
    const limits = { timeoutMs: 1, maxRows: 1 };
    expect(jobPrologue("cd__t2", limits, { superuser: "huddle_runner" })).toContain('set local role "huddle_runner_hidden"');
    expect(jobPrologue("cd", limits, { superuser: "huddle_runner" })).toContain('set local role "huddle_runner";');
    expect(jobPrologue("cd__t2", limits, { login: "huddle_sandbox_runner" })).toContain('set local role "huddle_sandbox_runner_hidden"');
    // A job's queries share a transaction: a main-dataset query steps back out of the hidden role.
    expect(jobPrologue("cd", limits, { login: "huddle_sandbox_runner" })).toContain("set local role none");
    const setup = sandboxSetupSql({ adminUrl: "postgres://postgres@localhost/postgres" }).cluster;
    expect(setup).toContain('GRANT "huddle_sandbox_runner_hidden" TO "huddle_sandbox_runner"');
    expect(setup.find((s) => s.startsWith('CREATE ROLE "huddle_sandbox_runner_hidden"'))).toContain("NOLOGIN");
  });
});

describe("outcome of a statement's error", () => {
  test.each([
    ["53400", "resource_limit_exceeded"], ["53200", "resource_limit_exceeded"], ["53100", "resource_limit_exceeded"],
    ["54001", "resource_limit_exceeded"], ["54000", "resource_limit_exceeded"],
    ["42703", "sql_error"], ["22012", "sql_error"], ["57014", "time_limit_exceeded"],
  ])("SQLSTATE %s is %s", (code, verdict) => {
    expect(sqlErrorOutcome({ code, message: "m" }, performance.now())).toMatchObject({ ok: false, verdict });
  });
});
