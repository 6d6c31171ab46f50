/**
 * A real PgBouncer (Debian's package) in transaction pooling mode in front of
 * the test PostgreSQL, for tests of DATABASE_POOLER=transaction. Each call
 * starts its own pgbouncer on a free loopback port with a config of its own
 * in a temp dir, and stop() ends exactly that process.
 *
 * Missing pgbouncer skips with a visible line, like the other services; with
 * REQUIRE_SERVICES=1 (CI, which installs it in .ci/run) it fails instead.
 */
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { freePort } from "./process";
import { DATABASE_URL } from "./services";

export type PgBouncer = {
  port: number;
  /** `url` with host and port swapped for the pooler's; same user, password and database name. */
  urlFor(directUrl: string): string;
  output(): string;
  stop(): Promise<void>;
};

const required = process.env.REQUIRE_SERVICES === "1";

/** /usr/sbin is not on every PATH (a non-root shell's, for one). */
export function pgbouncerBinary(): string | null {
  return Bun.which("pgbouncer") ?? (existsSync("/usr/sbin/pgbouncer") ? "/usr/sbin/pgbouncer" : null);
}

export function pgbouncerAvailable(): boolean {
  if (pgbouncerBinary()) return true;
  const msg = "pgbouncer not installed (apt-get install pgbouncer)";
  if (required) throw new Error(`REQUIRE_SERVICES=1 but ${msg}`);
  console.error(`SKIP: ${msg} (tests that need it are skipped)`);
  return false;
}

/** pgbouncer's minor version (1.x), e.g. 18 for Debian 12's 1.18.0. */
function minor(bin: string): number {
  const m = /PgBouncer 1\.(\d+)/.exec(Bun.spawnSync([bin, "--version"]).stdout.toString());
  return m ? Number(m[1]) : 0;
}

/** The uid/gid of the `postgres` system user, if there is one (pgbouncer refuses to run as root). */
function postgresUser(): { uid: number; gid: number } | null {
  const res = Bun.spawnSync(["id", "-u", "postgres"]);
  if (res.exitCode !== 0) return null;
  const gid = Bun.spawnSync(["id", "-g", "postgres"]);
  return { uid: Number(res.stdout.toString().trim()), gid: Number(gid.stdout.toString().trim()) };
}

export async function startPgBouncer(opts: { poolSize?: number; upstream?: string } = {}): Promise<PgBouncer> {
  const bin = pgbouncerBinary();
  if (!bin) throw new Error("pgbouncer not installed");
  const upstream = new URL(opts.upstream ?? DATABASE_URL);
  const user = decodeURIComponent(upstream.username || "postgres");
  const port = freePort();
  const dir = mkdtempSync(join(tmpdir(), "huddle-pgbouncer-"));
  const ini = join(dir, "pgbouncer.ini");
  const pass = decodeURIComponent(upstream.password ?? "");
  writeFileSync(join(dir, "userlist.txt"), `"${user}" "${pass}"\n`);
  writeFileSync(ini, [
    "[databases]",
    // Any database name the client asks for, on the same server: tests create a database per file.
    `* = host=${upstream.hostname} port=${upstream.port || 5432}${pass ? ` password=${pass}` : ""}`,
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    // No unix socket: two test pgbouncers would fight over /tmp/.s.PGSQL.6432.
    "unix_socket_dir =",
    "pool_mode = transaction",
    "auth_type = trust",
    `auth_file = ${join(dir, "userlist.txt")}`,
    // Fewer server connections than the app's pool has clients, as in production, so consecutive
    // transactions of one client connection really do land on different server connections.
    `default_pool_size = ${opts.poolSize ?? 3}`,
    "max_client_conn = 500",
    // 1.18 cannot track prepared statements at all (and refuses this key: "unknown parameter"). Newer
    // releases can (1.21+), and later ones do by default, which would hide the bug these tests are about.
    ...(minor(bin) >= 21 ? ["max_prepared_statements = 0"] : []),
    // pgbouncer refuses a client whose start-up packet has parameters it does not track. postgres.js sends
    // only user, database, client_encoding and application_name (all tracked); other clients send these two.
    "ignore_startup_parameters = extra_float_digits,options",
    "server_login_retry = 1",
    "log_connections = 0",
    "log_disconnections = 0",
    "",
  ].join("\n"));
  const args = [bin, ini];
  if (process.getuid?.() === 0) {
    const pg = postgresUser();
    if (!pg) throw new Error("running as root and there is no postgres user for pgbouncer to run as");
    // `-u` makes pgbouncer switch user itself; the files it reads must be readable by that user.
    for (const f of [dir, ini, join(dir, "userlist.txt")]) chownSync(f, pg.uid, pg.gid);
    args.push("-u", "postgres");
  }
  let out = "";
  const proc: Subprocess = Bun.spawn(args, { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const collect = async (s: ReadableStream<Uint8Array>) => {
    const r = s.getReader();
    for (;;) {
      const { done, value } = await r.read();
      if (done) return;
      out = (out + new TextDecoder().decode(value)).slice(-20_000);
    }
  };
  void collect(proc.stdout as ReadableStream<Uint8Array>);
  void collect(proc.stderr as ReadableStream<Uint8Array>);
  const urlFor = (direct: string) => {
    const u = new URL(direct);
    u.hostname = "127.0.0.1";
    u.port = String(port);
    return u.toString();
  };
  // pgbouncer outlives a test process that exits without stop() (a hung test, process.exit): end it then too.
  const onExit = () => {
    if (proc.exitCode === null) proc.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);
  const stop = async () => {
    process.off("exit", onExit);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when a query round-trips through it to PostgreSQL (the port alone opens before that works).
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`pgbouncer exited with ${proc.exitCode}:\n${out}`);
    const sql = postgres(urlFor(upstream.toString()), { max: 1, prepare: false, connect_timeout: 1, onnotice: () => {} });
    try {
      await sql`select 1`;
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`pgbouncer not ready on port ${port}: ${(err as Error).message}\n${out}`);
      }
      await Bun.sleep(100);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
  return { port, urlFor, output: () => out, stop };
}
