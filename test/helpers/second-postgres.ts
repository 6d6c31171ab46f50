/**
 * A second, throwaway PostgreSQL server (initdb + postgres on a free loopback
 * port, trust auth, no fsync) for tests of the recommended production shape:
 * the SQL sandbox on a server of its own (SANDBOX_DATABASE_URL pointing
 * elsewhere). stop() ends it and removes its data directory.
 *
 * initdb refuses to run as root, so as root it runs as the `postgres` system
 * user. Missing server binaries skip with a visible line; with
 * REQUIRE_SERVICES=1 (CI) they fail instead.
 */
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import postgres from "postgres";
import { freePort } from "./process";

export type SecondPostgres = { port: number; url(database: string): string; stop(): Promise<void> };

/** Debian keeps the server binaries outside PATH, one folder per major version. */
export function postgresServerBinDir(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : null;
}

export function secondPostgresAvailable(): boolean {
  if (postgresServerBinDir()) return true;
  const msg = "PostgreSQL server binaries (initdb) not found under /usr/lib/postgresql";
  if (process.env.REQUIRE_SERVICES === "1") throw new Error(`REQUIRE_SERVICES=1 but ${msg}`);
  console.error(`SKIP: ${msg} (tests that need a second server are skipped)`);
  return false;
}

function asPostgresUser(cmd: string[]): string[] {
  return process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd;
}

export async function startSecondPostgres(): Promise<SecondPostgres> {
  const bin = postgresServerBinDir();
  if (!bin) throw new Error("PostgreSQL server binaries not found");
  const dir = mkdtempSync(join(tmpdir(), "huddle-pg2-"));
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(Bun.spawnSync(["id", flag, "postgres"]).stdout.toString().trim());
    chownSync(dir, id("-u"), id("-g"));
  }
  const data = join(dir, "data");
  const init = Bun.spawnSync(asPostgresUser([join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]));
  if (init.exitCode !== 0) throw new Error(`initdb failed: ${init.stderr.toString()}`);
  const port = freePort();
  const proc: Subprocess = Bun.spawn(asPostgresUser([
    join(bin, "postgres"), "-D", data, "-p", String(port), "-c", "listen_addresses=127.0.0.1",
    "-c", `unix_socket_directories=${dir}`, "-c", "fsync=off", "-c", "shared_buffers=16MB", "-c", "max_connections=60",
  ]), { stdout: "ignore", stderr: "pipe" });
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  // runuser does not pass SIGINT on, so signal the postmaster itself (its pid heads postmaster.pid).
  const shutdown = () => {
    try {
      process.kill(Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]), "SIGINT");
    } catch {
      proc.kill("SIGKILL");
    }
  };
  const onExit = () => {
    if (proc.exitCode === null) shutdown();
  };
  process.once("exit", onExit);
  const stop = async () => {
    process.off("exit", onExit);
    // SIGINT is PostgreSQL's fast shutdown: sessions are ended, nothing waits for clients.
    if (proc.exitCode === null && proc.signalCode === null) shutdown();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`postgres exited with ${proc.exitCode}: ${await new Response(proc.stderr as ReadableStream).text()}`);
    const sql = postgres(url("postgres"), { max: 1, connect_timeout: 1, onnotice: () => {} });
    try {
      await sql`select 1`;
      return { port, url, stop };
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`second PostgreSQL did not accept connections: ${err}`);
      }
      await Bun.sleep(100);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }
}
