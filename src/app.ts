/**
 * createApp(deps) -> Elysia: plugins and feature modules over services that
 * the composition root (src/root.ts) built; nothing is constructed here. The
 * server and the tests both get their app through the root, so tests exercise
 * exactly what production serves.
 */
import { Elysia, type AnyElysia } from "elysia";
import pkg from "../package.json";
import { errorsPlugin } from "./plugins/errors";
import { metricsPlugin } from "./plugins/metrics";
import { headersPlugin } from "./plugins/headers";
import { inputGuardPlugin } from "./plugins/input-guard";
import { openapiPlugin } from "./plugins/openapi";
import type { RefundableRateLimit } from "./plugins/rate-limit";
import type { ClientIp } from "./lib/client-ip";
import type { AuthService } from "./modules/auth/service";
import type { TokenService } from "./modules/auth/tokens";
import { authModule } from "./modules/auth";
import type { UsersService } from "./modules/users/service";
import { usersModule } from "./modules/users";
import { opsModule, type ReadyCheck } from "./modules/ops";
import type { ChatService } from "./modules/chat/service";
import { chatModule } from "./modules/chat";
import type { SocketHub } from "./modules/chat/hub";
import { wsModule } from "./modules/chat/ws";
import type { RoomsService } from "./modules/rooms/service";
import { roomsModule } from "./modules/rooms";
import type { RoomAdmin } from "./modules/rooms/admin";
import type { MessageChanges } from "./modules/chat/changes";
import type { ChatSearch } from "./modules/chat/search";
import { webModule } from "./modules/web";
import type { ProblemsService } from "./modules/problems/service";
import type { ProblemRuns } from "./modules/problems/runs";
import { problemsModule } from "./modules/problems";
import type { FilesService } from "./modules/files/service";
import { filesModule, MULTIPART_OVERHEAD } from "./modules/files";
import type { AvatarService } from "./modules/users/avatar";
import type { NotificationsService } from "./modules/notifications/service";
import { notificationsModule } from "./modules/notifications";

export const VERSION: string = pkg.version;
const WS_BUFFER_BYTES = 1024 * 1024;

/** The services the routes call; built once by the composition root (src/root.ts). */
export type AppServices = {
  tokens: TokenService;
  limit: RefundableRateLimit;
  auth: AuthService;
  users: UsersService;
  avatars: AvatarService;
  chat: ChatService;
  changes: MessageChanges;
  search: ChatSearch;
  rooms: RoomsService;
  roomAdmin: RoomAdmin;
  problems: ProblemsService;
  problemRuns: ProblemRuns;
  files: FilesService;
  notifications: NotificationsService;
};

export type AppDeps<S extends AppServices = AppServices> = {
  services: S;
  http: {
    corsOrigins: string; maxBodyBytes: number; maxUploadBytes: number;
    /** Bearer token protecting /metrics; open when unset. */
    metricsToken?: string;
    /** The client's address for rate limits (TRUSTED_PROXIES decides which header is believed). */
    clientIp: ClientIp;
  };
  /** Readiness checks (database, Redis, actor tree, canary). */
  checks: ReadyCheck[];
  /** The sockets of this instance; without it there is no /chat/subscribe (HTTP-only tests). */
  hub?: SocketHub;
  isDraining?: () => boolean;
  /** Extra modules mounted last (test hooks). */
  modules?: ((services: S) => AnyElysia)[];
};

export function createApp<S extends AppServices>(deps: AppDeps<S>) {
  const { services: s, http, hub } = deps;
  let app: AnyElysia = new Elysia({
    websocket: {
      // Frames above 64 KiB close the socket (1009); a client message is at most ~16 KiB of content.
      maxPayloadLength: 64 * 1024,
      // Connection closes a socket buffering more than WS_BUFFER_BYTES with "resume" (checked after each
      // send, and after topic publishes at most every 25 ms: modules/chat/fanout.ts). Bun's own limit sits
      // above it and closes instead of dropping, so a burst between two checks is never a silent loss.
      backpressureLimit: WS_BUFFER_BYTES * 4,
      closeOnBackpressureLimit: true,
      idleTimeout: 120,
      sendPings: true,
    },
  })
    .use(errorsPlugin)
    .use(metricsPlugin)
    .use(headersPlugin({ corsOrigins: http.corsOrigins, maxBodyBytes: http.maxBodyBytes, maxUploadBytes: http.maxUploadBytes + MULTIPART_OVERHEAD }))
    .use(inputGuardPlugin)
    .use(openapiPlugin(VERSION))
    .use(opsModule({ checks: deps.checks, version: VERSION, isDraining: deps.isDraining ?? (() => false), metricsToken: http.metricsToken }))
    .use(authModule(s.auth, s.tokens, s.limit, http.clientIp))
    .use(usersModule(s.users, s.avatars, s.tokens, s.limit))
    .use(chatModule(s.chat, s.changes, s.search, s.tokens))
    .use(roomsModule(s.rooms, s.roomAdmin, s.chat, s.tokens))
    .use(problemsModule(s.problems, s.problemRuns, s.tokens))
    .use(filesModule(s.files, s.tokens, s.limit))
    .use(notificationsModule(s.notifications, s.tokens))
    .use(webModule());
  if (hub) app = app.use(wsModule(hub, s.chat, s.tokens, s.limit, { maxBufferedBytes: WS_BUFFER_BYTES }));
  for (const m of deps.modules ?? []) app = app.use(m(s));
  return Object.assign(app, { hub });
}

export type App = ReturnType<typeof createApp>;
