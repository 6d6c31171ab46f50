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
import type { Child, Registry } from "../../../actors/kernel/index.ts";
import type { ActorSystem } from "../../../actors/system";
import type { Config } from "../../config";
import { NotFound } from "../../errors";

type Crashable = Child & { readonly state: string; crash(error: unknown): void };

export const testHooksModule = (system: ActorSystem, config: Config) =>
  new Elysia({ prefix: "/__test", detail: { hide: true } })
    .post("/crash", ({ body }) => {
      let name: string;
      let target: Crashable | undefined;
      if (body.target === "conversation") {
        name = `conversations/${body.id}`;
        target = system.root.child<Registry<string, never>>("conversations")?.peek(body.id ?? "") as Crashable | undefined;
      } else {
        name = body.target === "worker" ? `worker-${config.INSTANCE_ID}-${body.id ?? 0}` : "sql-runners";
        target = system.root.child<Crashable>(name);
      }
      if (!target || target.state !== "running") throw new NotFound(`running actor ${name}`);
      target.crash(new Error(`fault injected through /__test/crash (${name})`));
      return { crashed: name };
    }, {
      body: t.Object({ target: t.Union([t.Literal("conversation"), t.Literal("worker"), t.Literal("runner")]), id: t.Optional(t.String({ maxLength: 64 })) }),
    });
