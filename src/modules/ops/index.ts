/**
 * Liveness, readiness and metrics. /health only says the process answers;
 * /ready checks what requests need (database, Redis when configured, the actor
 * tree) and names what failed, so an orchestrator can route around it.
 * /ready is unauthenticated, so a failure shows only a short code (ECONNREFUSED,
 * 28P01, timeout, ...): driver messages name hosts, users and databases. The
 * full error goes to the log, once per change, not once per probe.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import { Elysia, t } from "elysia";
import { Unauthorized } from "../../errors";
import { log } from "../../lib/log";
import { bearerFrom } from "../../plugins/auth";
import { registry } from "../../plugins/metrics";

export type ReadyCheck = { name: string; check: () => Promise<unknown> };

const CHECK_TIMEOUT_MS = 2000;

class CheckTimeout extends Error {
  readonly code = "timeout";
}

/** A short, safe name for what went wrong: the driver's code (followed through `cause`), else the class name. */
export function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if ((typeof code === "string" && /^[A-Za-z0-9_.-]{1,40}$/.test(code)) || typeof code === "number") return String(code);
    e = (e as { cause?: unknown }).cause;
  }
  const name = (err as { name?: unknown })?.name;
  return typeof name === "string" && /^[A-Za-z0-9_]{1,40}$/.test(name) && name !== "Error" ? name : "check_failed";
}

function runChecks(checks: ReadyCheck[]) {
  const lastLogged = new Map<string, string>();
  return async (c: ReadyCheck): Promise<{ ok: boolean; error?: string; info?: unknown }> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const info = await Promise.race([
        c.check(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new CheckTimeout(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
      ]);
      lastLogged.delete(c.name);
      return info === undefined ? { ok: true } : { ok: true, info };
    } catch (err) {
      const code = errorCode(err);
      if (lastLogged.get(c.name) !== code) log.warn({ err, check: c.name, code }, "readiness check failed");
      lastLogged.set(c.name, code);
      return { ok: false, error: code };
    } finally {
      clearTimeout(timer);
    }
  };
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export const opsModule = (opts: { checks: ReadyCheck[]; version: string; isDraining: () => boolean; metricsToken?: string }) => {
  const runCheck = runChecks(opts.checks);
  // Comparing digests keeps the comparison constant-time whatever the presented token's length.
  const expected = opts.metricsToken ? digest(opts.metricsToken) : null;
  return new Elysia({ tags: ["ops"] })
    // While shutting down, every answer closes its connection, so clients open a new one elsewhere.
    .onRequest(({ set }) => {
      if (opts.isDraining()) set.headers.connection = "close";
    })
    .get("/health", () => ({ status: "ok" as const, version: opts.version, uptime_s: Math.round(process.uptime()) }), {
      detail: { summary: "Liveness: the process answers" },
      response: { 200: t.Object({ status: t.Literal("ok"), version: t.String(), uptime_s: t.Integer() }) },
    })
    .get("/ready", async ({ set }) => {
      const results = await Promise.all(opts.checks.map(async (c) => [c.name, await runCheck(c)] as const));
      const checks = Object.fromEntries(results);
      const failed = results.filter(([, r]) => !r.ok).map(([n]) => n);
      if (opts.isDraining()) failed.push("shutting_down");
      if (failed.length > 0) set.status = 503;
      return { status: failed.length ? "unavailable" : "ready", failed, checks };
    }, { detail: { summary: "Readiness: database, Redis (when configured) and the actor tree; failures as short codes" } })
    .get("/metrics", async ({ headers }) => {
      if (expected) {
        const given = bearerFrom(headers.authorization);
        if (!given || !timingSafeEqual(digest(given), expected)) throw new Unauthorized("metrics need the METRICS_TOKEN bearer token");
      }
      return new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } });
    }, {
      detail: { summary: "Prometheus metrics (Authorization: Bearer METRICS_TOKEN when that is set)" },
    });
};
