/**
 * Fault injection for the fault tests (test/faults/README.md), mounted only
 * with HUDDLE_TEST_HOOKS=1, which config.ts refuses under NODE_ENV=production.
 * POST /__test/crash crashes one actor exactly as an uncaught error in it
 * would, so a test can watch its supervisor restart it with backoff:
 * {target: "conversation", id: conversation_id} (its actor on this instance),
 * {target: "worker", id?: index} (a judge worker, default 0),
 * {target: "runner"} (the SQL runner pool's actor).
 * Hidden from the OpenAPI document; no authentication (never expose it).
 */
import { Elysia, t } from "elysia";
import { NotFound } from "../../errors";

/** Crashes one actor like an uncaught error in it would; its name, or null when none such is running. */
export type CrashActor = (target: "conversation" | "worker" | "runner", id?: string) => string | null;

export const testHooksModule = (crash: CrashActor) =>
  new Elysia({ prefix: "/__test", detail: { hide: true } })
    .post("/crash", ({ body }) => {
      const crashed = crash(body.target, body.id);
      if (!crashed) throw new NotFound(`running ${body.target} actor${body.id ? ` ${body.id}` : ""}`);
      return { crashed };
    }, {
      body: t.Object({ target: t.Union([t.Literal("conversation"), t.Literal("worker"), t.Literal("runner")]), id: t.Optional(t.String({ maxLength: 64 })) }),
    });
