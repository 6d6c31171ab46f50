/**
 * A throwaway Redis that only speaks TLS and wants a password, for tests of
 * `rediss://` URLs: a fresh CA and server certificate made with `openssl` in
 * a temp dir, `redis-server` on a free 127.0.0.1 port, and a stop() that
 * kills it and removes the dir. Nothing is shared with the suite's Redis.
 *
 * Needs the `redis-server` (built with TLS, as Debian's is) and `openssl`
 * binaries: `tlsRedisTools()` prints a `SKIP:` line when one is missing, or
 * throws under REQUIRE_SERVICES=1 so CI cannot skip these tests silently.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import Redis from "ioredis";

export type TlsRedis = {
  host: "127.0.0.1";
  /** TLS port. */
  port: number;
  /** A plain (non-TLS) port of the same server, when asked for with `plain: true`. */
  plainPort?: number;
  password: string;
  /** PEM of the CA that signed the server certificate, and its file (for NODE_EXTRA_CA_CERTS). */
  ca: string;
  caFile: string;
  /** `rediss://:password@127.0.0.1:port`. */
  url: string;
  /** A client that trusts the CA explicitly (not through the process's CA store), for setup and checks. */
  admin(): Redis;
  stop(): Promise<void>;
};

export function tlsRedisTools(): boolean {
  const missing = ["redis-server", "openssl"].filter((bin) => !Bun.which(bin));
  if (missing.length === 0) return true;
  const msg = `${missing.join(" and ")} not installed (apt-get install redis-server openssl)`;
  if (process.env.REQUIRE_SERVICES === "1") throw new Error(`REQUIRE_SERVICES=1 but ${msg}`);
  console.error(`SKIP: ${msg}; the TLS Redis tests are skipped`);
  return false;
}

function run(cmd: string[], cwd: string): void {
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${p.stderr.toString()}`);
}

/** CA + server certificate for 127.0.0.1/localhost, valid one day: all a test run needs. */
function makeCertificates(dir: string): void {
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run(["openssl", "req", "-x509", ...key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
    "-subj", "/CN=Huddle throwaway test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
  run(["openssl", "req", ...key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], dir);
  // Clients check the name they dialled against subjectAltName (CN is ignored), so both forms go in.
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
    "-out", "server.crt", "-days", "1", "-extfile", "server.ext"], dir);
}

/** A port that was free a moment ago; redis-server's bind failing on a race is retried by the caller. */
function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function waitReady(admin: () => Redis, proc: Bun.Subprocess, log: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last = "";
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    const r = admin();
    try {
      if ((await r.ping()) === "PONG") return;
    } catch (err) {
      last = (err as Error).message;
    } finally {
      r.disconnect();
    }
    await Bun.sleep(50);
  }
  const tail = existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(-15).join("\n") : "";
  throw new Error(`TLS redis-server did not become ready (exit ${proc.exitCode}, last error: ${last})\n${tail}`);
}

export async function startTlsRedis(opts: { password?: string; plain?: boolean } = {}): Promise<TlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), "huddle-tls-redis-"));
  try {
    makeCertificates(dir);
    const ca = readFileSync(join(dir, "ca.crt"), "utf8");
    const password = opts.password ?? `pw-${Bun.randomUUIDv7()}`;
    for (let attempt = 1; ; attempt++) {
      const port = freePort();
      const plainPort = opts.plain ? freePort() : undefined;
      const log = join(dir, `redis-${attempt}.log`);
      const proc = Bun.spawn(["redis-server", "--bind", "127.0.0.1", "--port", String(plainPort ?? 0),
        "--tls-port", String(port), "--tls-cert-file", "server.crt", "--tls-key-file", "server.key",
        "--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no", "--requirepass", password,
        "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", log], { cwd: dir, stdout: "ignore", stderr: "ignore" });
      // A test process that dies without its afterAll must not leave the server running.
      const killOnExit = () => proc.kill("SIGKILL");
      process.once("exit", killOnExit);
      const admin = () => {
        const r = new Redis({ host: "127.0.0.1", port, password, tls: { ca },
          maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
        // Failures reach the caller through rejected commands; the event would only print "Unhandled error".
        r.on("error", () => {});
        return r;
      };
      try {
        await waitReady(admin, proc, log);
      } catch (err) {
        proc.kill("SIGKILL");
        process.off("exit", killOnExit);
        if (attempt < 3 && /Address already in use/.test(existsSync(log) ? readFileSync(log, "utf8") : "")) continue;
        throw err;
      }
      const stop = async () => {
        proc.kill("SIGTERM");
        const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(5_000).then(() => false)]);
        if (!exited) proc.kill("SIGKILL");
        process.off("exit", killOnExit);
        rmSync(dir, { recursive: true, force: true });
      };
      return { host: "127.0.0.1", port, plainPort, password, ca, caFile: join(dir, "ca.crt"),
        url: `rediss://:${encodeURIComponent(password)}@127.0.0.1:${port}`, admin, stop };
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Adds `ca` to this process's default CA store and returns the undo. The
 * engine takes only a URL and trusts what the process trusts; production
 * extends that store with NODE_EXTRA_CA_CERTS, which is read once at process
 * start, too late for a CA made by the test itself (the subprocess test covers it).
 */
export function trustCaInProcess(ca: string): () => void {
  const before = tls.getCACertificates("default");
  tls.setDefaultCACertificates([...before, ca]);
  return () => tls.setDefaultCACertificates(before);
}
