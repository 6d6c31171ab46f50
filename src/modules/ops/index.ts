/**
 * Liveness, readiness and metrics. /health only says the process answers;
 * /ready checks what requests need (database, Redis when configured, the actor
 * tree) and names what failed, so an orchestrator can route around it.
 */
import { Elysia, t } from "elysia";
import { registry } from "../../plugins/metrics";

export type ReadyCheck = { name: string; check: () => Promise<unknown> };

const CHECK_TIMEOUT_MS = 2000;

async function runCheck(c: ReadyCheck): Promise<{ ok: boolean; error?: string; info?: unknown }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const info = await Promise.race([
      c.check(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
    ]);
    return info === undefined ? { ok: true } : { ok: true, info };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export const opsModule = (opts: { checks: ReadyCheck[]; version: string; isDraining: () => boolean }) =>
  new Elysia({ tags: ["ops"] })
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
    }, { detail: { summary: "Readiness: database, Redis (when configured) and the actor tree" } })
    .get("/metrics", async () =>
      new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } }), {
      detail: { summary: "Prometheus metrics" },
    });
