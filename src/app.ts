/**
 * createApp(deps) -> Elysia. The composition of plugins and feature modules;
 * main.ts and the tests both build the server through here, so tests exercise
 * exactly what production serves.
 */
import { Elysia } from "elysia";
import pkg from "../package.json";
import type { Config } from "./config";
import type { Database } from "./db/client";
import type { Engine } from "./engine/types";
import { errorsPlugin } from "./plugins/errors";
import { metricsPlugin } from "./plugins/metrics";
import { headersPlugin } from "./plugins/headers";
import { openapiPlugin } from "./plugins/openapi";
import { createRateLimit, DEFAULT_BUCKETS, type Bucket } from "./plugins/rate-limit";
import { AuthService } from "./modules/auth/service";
import { TokenService } from "./modules/auth/tokens";
import { authModule } from "./modules/auth";
import { UsersService } from "./modules/users/service";
import { usersModule } from "./modules/users";
import { opsModule, type ReadyCheck } from "./modules/ops";

export const VERSION: string = pkg.version;

export type AppDeps = {
  config: Config;
  database: Database;
  engine: Engine;
  /** Extra readiness checks (actor tree, canary) added by main. */
  checks?: ReadyCheck[];
  isDraining?: () => boolean;
  buckets?: Record<string, Bucket>;
  /** Feature modules built by the composition root (chat, problems, web). */
  modules?: ((ctx: AppContext) => Elysia<any, any, any, any, any, any, any>)[];
};

export type AppContext = {
  config: Config;
  database: Database;
  engine: Engine;
  tokens: TokenService;
  limit: ReturnType<typeof createRateLimit>;
};

export function createApp(deps: AppDeps) {
  const { config, database, engine } = deps;
  const tokens = new TokenService(config.JWT_SECRET, config.ACCESS_TOKEN_TTL_SEC, config.REFRESH_TOKEN_TTL_SEC);
  const limit = createRateLimit(engine.rateLimiter, deps.buckets ?? DEFAULT_BUCKETS);
  const ctx: AppContext = { config, database, engine, tokens, limit };
  const checks: ReadyCheck[] = [
    { name: "database", check: () => database.ping() },
    ...(engine.kind === "redis" ? [{ name: "redis", check: () => engine.ping() }] : []),
    ...(deps.checks ?? []),
  ];

  let app = new Elysia()
    .use(errorsPlugin)
    .use(metricsPlugin)
    .use(headersPlugin({ corsOrigins: config.CORS_ORIGINS, maxBodyBytes: config.MAX_BODY_BYTES }))
    .use(openapiPlugin(VERSION))
    .use(opsModule({ checks, version: VERSION, isDraining: deps.isDraining ?? (() => false) }))
    .use(authModule(new AuthService(database.db, tokens), tokens, limit))
    .use(usersModule(new UsersService(database.db, engine.presence), tokens));
  for (const m of deps.modules ?? []) app = app.use(m(ctx)) as typeof app;
  return app;
}

export type App = ReturnType<typeof createApp>;
