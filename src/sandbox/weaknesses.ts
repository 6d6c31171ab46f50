/**
 * What the PostgreSQL sandbox could not lock down. On managed PostgreSQL the
 * app's admin is usually not a superuser: it cannot set temp_file_limit on the
 * runner role nor revoke EXECUTE/SELECT on pg_catalog objects (session.ts), so
 * setup skips those steps. Rather than trust which steps ran (an operator may
 * have applied the SQL by hand), this asks the server what the runner role can
 * do. Each entry is a sentence for the start-up warning and /ready.
 */
import type postgres from "postgres";

const PROBES: [what: string, sql: string][] = [
  ["pg_sleep (a query can hold a runner without using CPU)", "has_function_privilege($1, 'pg_catalog.pg_sleep(double precision)', 'execute')"],
  ["advisory locks (pg_advisory_lock)", "has_function_privilege($1, 'pg_catalog.pg_advisory_lock(bigint)', 'execute')"],
  ["functions that run SQL text (query_to_xml and family, ts_stat)", "has_function_privilege($1, 'pg_catalog.query_to_xml(text, boolean, boolean, text)', 'execute')"],
  ["pg_stat_* functions (query text of every backend)", "has_function_privilege($1, 'pg_catalog.pg_stat_get_backend_idset()', 'execute')"],
  ["pg_stat_activity (other sessions and their SQL)", "has_table_privilege($1, 'pg_catalog.pg_stat_activity', 'select')"],
  ["pg_database (every database of the cluster)", "has_table_privilege($1, 'pg_catalog.pg_database', 'select')"],
  ["pg_roles (every role of the cluster)", "has_table_privilege($1, 'pg_catalog.pg_roles', 'select')"],
  ["plpgsql (DO blocks)", "has_language_privilege($1, 'plpgsql', 'usage')"],
];

const HOW = "apply the sandbox setup SQL as a superuser (README, judge section)";

export async function probeWeaknesses(admin: postgres.Sql, role: string): Promise<string[]> {
  const weaknesses: string[] = [];
  try {
    const [row] = await admin.unsafe(`select ${PROBES.map(([, sql], i) => `${sql} as p${i}`).join(", ")}`, [role]);
    PROBES.forEach(([what], i) => {
      if (row?.[`p${i}`] !== false) weaknesses.push(`the sandbox role may use ${what}: not revoked from PUBLIC; ${HOW}`);
    });
  } catch (err) {
    weaknesses.push(`the sandbox revokes could not be checked (${(err as Error).message}); ${HOW}`);
  }
  try {
    const [{ set }] = await admin`select exists(select 1 from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
      where r.rolname = ${role} and s.setdatabase = 0 and exists(select 1 from unnest(s.setconfig) c where c like 'temp_file_limit=%')) as set`;
    if (!set) weaknesses.push(`temp_file_limit is not set on the sandbox role: a query may fill the server's disk with temp files; ${HOW}`);
  } catch (err) {
    weaknesses.push(`temp_file_limit on the sandbox role could not be checked (${(err as Error).message})`);
  }
  return weaknesses;
}
