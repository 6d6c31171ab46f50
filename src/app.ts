/**
 * createApp(deps) -> Elysia. The composition of plugins and feature modules;
 * main.ts and the tests both build the server through here, so tests exercise
 * exactly what production serves.
 */
import { Elysia, type AnyElysia } from "elysia";
import pkg from "../package.json";
import type { Config } from "./config";
import type { Database } from "./db/client";
import type { Engine } from "./engine/types";
import { errorsPlugin } from "./plugins/errors";
import { metricsPlugin } from "./plugins/metrics";
import { headersPlugin } from "./plugins/headers";
import { inputGuardPlugin } from "./plugins/input-guard";
import { openapiPlugin } from "./plugins/openapi";
import { createRateLimit, DEFAULT_BUCKETS, scaledBuckets, type Bucket } from "./plugins/rate-limit";
import { clientIpResolver } from "./lib/client-ip";
import { AuthService } from "./modules/auth/service";
import { TokenService } from "./modules/auth/tokens";
import { authModule } from "./modules/auth";
import { UsersService } from "./modules/users/service";
import { usersModule } from "./modules/users";
import { opsModule, type ReadyCheck } from "./modules/ops";
import { ChatRepo } from "./modules/chat/repo";
import { ChatService } from "./modules/chat/service";
import { chatModule } from "./modules/chat";
import { SocketHub, type ConversationRefs } from "./modules/chat/hub";
import { wsModule } from "./modules/chat/ws";
import { RoomsService } from "./modules/rooms/service";
import { roomsModule } from "./modules/rooms";
import { webModule } from "./modules/web";
import { ProblemsService } from "./modules/problems/service";
import { problemsModule } from "./modules/problems";
import { FilesService } from "./modules/files/service";
import { filesModule, MULTIPART_OVERHEAD } from "./modules/files";
import { createStorage } from "./modules/files/storage";

export const VERSION: string = pkg.version;
const WS_BUFFER_BYTES = 1024 * 1024;

export type AppDeps = {
  config: Config;
  database: Database;
  engine: Engine;
  /** The running actor system; without it there are no sockets (HTTP-only tests). */
  actors?: { conversations: ConversationRefs };
  /** Extra readiness checks (actor tree, canary) added by main. */
  checks?: ReadyCheck[];
  isDraining?: () => boolean;
  buckets?: Record<string, Bucket>;
  /** Feature modules built by the composition root (chat, problems, web). */
  modules?: ((ctx: AppContext) => AnyElysia)[];
};

export type AppContext = {
  config: Config;
  database: Database;
  engine: Engine;
  tokens: TokenService;
  limit: ReturnType<typeof createRateLimit>;
  chat: ChatService;
  hub?: SocketHub;
};

export function createApp(deps: AppDeps) {
  const { config, database, engine } = deps;
  const tokens = new TokenService(config.JWT_SECRET, config.ACCESS_TOKEN_TTL_SEC, config.REFRESH_TOKEN_TTL_SEC);
  const limit = createRateLimit(engine.rateLimiter, deps.buckets ?? scaledBuckets(config.RATE_LIMIT_SCALE, DEFAULT_BUCKETS));
  const chat = new ChatService(new ChatRepo(database.db), engine, limit);
  const hub = deps.actors
    ? new SocketHub(deps.actors.conversations, engine.broker, engine.presence, chat, {
      presenceTtlSec: config.PRESENCE_TTL_SEC,
      maxSocketsPerUser: config.MAX_SOCKETS_PER_USER,
    })
    : undefined;
  if (hub) chat.attachLocalDelivery(hub);
  const ctx: AppContext = { config, database, engine, tokens, limit, chat, hub };
  const checks: ReadyCheck[] = [
    { name: "database", check: () => database.ping() },
    ...(engine.kind === "redis" ? [{ name: "redis", check: () => engine.ping() }] : []),
    ...(deps.checks ?? []),
  ];

  let app: AnyElysia = new Elysia({
    websocket: {
      // Frames above 64 KiB close the socket (1009); a client message is at most ~16 KiB of content.
      maxPayloadLength: 64 * 1024,
      // Past this, Bun drops the frame and Connection closes the socket with "resume" (never a silent loss).
      backpressureLimit: WS_BUFFER_BYTES,
      closeOnBackpressureLimit: false,
      idleTimeout: 120,
      sendPings: true,
    },
  })
    .use(errorsPlugin)
    .use(metricsPlugin)
    .use(headersPlugin({ corsOrigins: config.CORS_ORIGINS, maxBodyBytes: config.MAX_BODY_BYTES, maxUploadBytes: config.MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD }))
    .use(inputGuardPlugin)
    .use(openapiPlugin(VERSION))
    .use(opsModule({ checks, version: VERSION, isDraining: deps.isDraining ?? (() => false), metricsToken: config.METRICS_TOKEN }))
    .use(authModule(new AuthService(database.db, tokens), tokens, limit, clientIpResolver(config.TRUSTED_PROXIES)))
    .use(usersModule(new UsersService(database.db, engine.presence), tokens))
    .use(chatModule(chat, tokens, engine.presence))
    .use(roomsModule(new RoomsService(chat), chat, tokens))
    .use(problemsModule(new ProblemsService(database.db, engine, limit), tokens))
    .use(filesModule(new FilesService(database.db, engine, createStorage(config), chat, config.MAX_UPLOAD_BYTES), tokens, limit))
    .use(webModule());
  if (hub) app = app.use(wsModule(hub, chat, tokens, { maxBufferedBytes: WS_BUFFER_BYTES }));
  for (const m of deps.modules ?? []) app = app.use(m(ctx));
  return Object.assign(app, { hub });
}

export type App = ReturnType<typeof createApp>;
