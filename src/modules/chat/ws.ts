/**
 * WS /chat/subscribe. Authenticates before the upgrade (token in ?token=, an
 * Authorization header, or Sec-WebSocket-Protocol "bearer, <token>"), then
 * speaks JSON frames with a `type`. Frames of one socket are handled one at a
 * time in order; a bad frame gets an `error` frame and the socket stays open.
 *
 * The handshake is a plain GET route that calls Bun's `server.upgrade` with a
 * `ChatSocket` as the socket's data: Bun (through Elysia's dispatcher, which
 * calls `ws.data.open/message/close`) runs its prototype methods, so an idle
 * socket holds that one small object and no copy of the request context or
 * per-socket closures (Elysia's own `.ws()` keeps both).
 */
import { Elysia, t } from "elysia";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { AppError, Unauthorized } from "../../errors";
import { DATABASE_UNAVAILABLE, isDatabaseUnavailable } from "../../db/errors";
import { log } from "../../lib/log";
import { bearerFrom } from "../../plugins/auth";
import { hostileInput } from "../../plugins/input-guard";
import { rateLimited } from "../../plugins/metrics";
import type { RateLimit } from "../../plugins/rate-limit";
import type { TokenService, Verified } from "../auth/tokens";
import { ClientFrame, type ClientFrameT } from "./model";
import type { ChatService } from "./service";
import type { SocketHub } from "./hub";
import { CLOSE, Connection, type RawSocket } from "./connection";
import { chatMetrics } from "./metrics";

const frameCheck = TypeCompiler.Compile(ClientFrame);
const MAX_QUEUED_FRAMES = 64;
const RESUME_MAX = 1000;

type Deps = { hub: SocketHub; chat: ChatService; tokens: TokenService; limit: RateLimit };

function tokenOf(query: Record<string, string | undefined>, headers: Record<string, string | undefined>): { token: string | null; viaProtocol: boolean } {
  if (query.token) return { token: query.token, viaProtocol: false };
  const bearer = bearerFrom(headers.authorization);
  if (bearer) return { token: bearer, viaProtocol: false };
  const protocols = (headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
  const i = protocols.indexOf("bearer");
  return { token: i >= 0 ? (protocols[i + 1] ?? null) : null, viaProtocol: i >= 0 };
}

function errorFrame(err: unknown, ref?: string | null) {
  if (err instanceof AppError) {
    return { type: "error", code: err.code, message: err.message, status: err.status, ...(err.details ? { details: err.details } : {}), ...(ref ? { ref } : {}) };
  }
  if (isDatabaseUnavailable(err)) return { type: "error", code: "unavailable", message: DATABASE_UNAVAILABLE, status: 503, ...(ref ? { ref } : {}) };
  log.error({ err }, "ws frame failed");
  return { type: "error", code: "internal", message: "internal error", status: 500, ...(ref ? { ref } : {}) };
}

/** Until Bun opens the socket nothing is sent to it. */
const UNOPENED: RawSocket = { send: () => 1, close: () => {} };
let lastSocketId = 0;

/** One chat socket: its Connection state plus the handlers Bun calls on it (prototype methods). */
class ChatSocket extends Connection {
  constructor(claims: Verified, maxBufferedBytes: number, private readonly deps: Deps) {
    super(String(++lastSocketId), claims.sub, UNOPENED, maxBufferedBytes);
    this.sessionId = claims.sid;
    this.generation = claims.gen;
    this.expiresAt = claims.exp * 1000;
  }

  open(ws: RawSocket) {
    this.socket = ws;
    void opened(this, this.deps);
  }

  message(_ws: RawSocket, raw: string | Buffer) {
    received(this, this.deps, raw);
  }

  close(_ws: RawSocket, code: number, reason?: string) {
    // Bun closed the socket for a frame above maxPayloadLength: the client sees 1009, this handler 1006.
    if (code === 1009 || /too big/i.test(reason ?? "")) chatMetrics.wsFrames.inc({ type: "oversized", outcome: "closed" });
    this.closed = true;
    this.deps.hub.close(this);
  }
}

async function opened(conn: ChatSocket, { hub, tokens }: Deps) {
  if (conn.expiresAt <= Date.now()) return conn.shut(CLOSE.tokenExpired);
  conn.holdUntilReady();
  try {
    if (!(await hub.open(conn))) return;
    // A password change committed between the token check and the user-channel subscription was
    // announced before this socket listened: ask PostgreSQL once more, now that it listens.
    const claims: Verified = { sub: conn.userId, exp: conn.expiresAt / 1000, sid: conn.sessionId, gen: conn.generation };
    if (!(await tokens.isCurrent(claims, true))) return conn.shut(CLOSE.sessionRevoked);
    conn.ready(await hub.readyFrame(conn.userId));
    hub.settled();
  } catch (err) {
    // Without its subscriptions the socket would silently miss messages: close it so the client retries.
    log.error({ err, user: conn.userId }, "socket setup failed");
    conn.shut(CLOSE.setupFailed);
  }
}

function received(conn: ChatSocket, deps: Deps, raw: string | Buffer) {
  let frame: unknown = raw;
  if (typeof raw === "string") {
    try {
      frame = JSON.parse(raw);
    } catch {
      chatMetrics.wsFrames.inc({ type: "invalid", outcome: "error" });
      return conn.send({ type: "error", code: "invalid_json", message: "frame is not valid JSON", status: 400 });
    }
  }
  const hostile = hostileInput(frame);
  if (hostile) {
    chatMetrics.wsFrames.inc({ type: "invalid", outcome: "error" });
    return conn.send({ type: "error", code: "invalid_frame", status: 400, message: `invalid frame: ${hostile.field} ${hostile.message}` });
  }
  if (!frameCheck.Check(frame)) {
    const first = frameCheck.Errors(frame).First();
    const type = typeof (frame as { type?: unknown })?.type === "string" ? String((frame as { type: string }).type).slice(0, 32) : "unknown";
    chatMetrics.wsFrames.inc({ type: "invalid", outcome: "error" });
    return conn.send({
      type: "error", code: "invalid_frame", status: 400,
      message: `invalid ${type} frame${first ? `: ${first.path || "(frame)"} ${first.message}` : ""}; expected one of send, typing, read, resume, ping`,
    });
  }
  const ok = conn.enqueue(() => run(conn, deps, frame as ClientFrameT), MAX_QUEUED_FRAMES);
  if (!ok) {
    rateLimited.inc({ scope: "ws-queue" });
    conn.send({ type: "error", code: "rate_limited", status: 429, message: `more than ${MAX_QUEUED_FRAMES} frames waiting; slow down` });
  }
}

async function run(conn: ChatSocket, deps: Deps, frame: ClientFrameT) {
  try {
    await handle(conn, deps, frame);
    chatMetrics.wsFrames.inc({ type: frame.type, outcome: "ok" });
  } catch (err) {
    chatMetrics.wsFrames.inc({ type: frame.type, outcome: "error" });
    conn.send(errorFrame(err, (frame as { client_id?: string }).client_id));
  }
}

async function handle(conn: ChatSocket, { hub, chat, limit }: Deps, frame: ClientFrameT) {
  switch (frame.type) {
    case "send": {
      const id = Bun.randomUUIDv7();
      // The broker's copy of this message skips this socket (fanout.ts): the reply below is its copy.
      hub.fanOut.expectOwn(id, conn);
      try {
        const { message } = await chat.send(conn.userId, frame, { id });
        hub.follow(conn, message.conversation_id);
        conn.send({ type: "message", message, client_id: frame.client_id ?? null });
      } catch (err) {
        hub.fanOut.forgetOwn(id);
        throw err;
      }
      return;
    }
    case "typing":
      return chat.typing(conn.userId, frame.conversation_id);
    case "read":
      return void (await chat.markRead(conn.userId, frame.conversation_id, frame.seq));
    case "resume": {
      // A replay reads up to RESUME_MAX messages (PostgreSQL when Redis lacks them): limited per user.
      await limit("resume", conn.userId);
      // Live frames that race the replay are held back, so the socket sees each seq once, in order.
      conn.beginReplay(frame.conversation_id);
      let missed;
      try {
        missed = await chat.since(conn.userId, frame.conversation_id, frame.after_seq, RESUME_MAX);
      } catch (err) {
        conn.endReplay(frame.conversation_id);
        throw err;
      }
      hub.follow(conn, frame.conversation_id);
      conn.endReplay(frame.conversation_id, { afterSeq: frame.after_seq, messages: missed });
      return;
    }
    case "ping":
      return conn.send({ type: "pong", ...(frame.id !== undefined ? { id: frame.id } : {}), ts: Date.now() });
  }
}

type Upgrader = { upgrade(request: Request, options: { data: unknown; headers?: Record<string, string> }): boolean };

export const wsModule = (hub: SocketHub, chat: ChatService, tokens: TokenService, limit: RateLimit, opts: { maxBufferedBytes: number }) => {
  const deps: Deps = { hub, chat, tokens, limit };
  return new Elysia({ tags: ["chat"] }).get("/chat/subscribe", async ({ request, server, query, headers, set }) => {
    const { token, viaProtocol } = tokenOf(query, headers);
    if (!token) throw new Unauthorized("missing token: use ?token=, Authorization: Bearer, or Sec-WebSocket-Protocol: bearer, <token>");
    const claims = await tokens.verifyAccessClaims(token);
    // Each upgrade subscribes, announces presence and reads the user's conversations: limited per user (429).
    await limit("ws-connect", claims.sub);
    if (server) hub.fanOut.bind(server);
    if (viaProtocol) set.headers["sec-websocket-protocol"] = "bearer";
    let upgraded = false;
    try {
      upgraded = !!(server as Upgrader | null)?.upgrade(request, { data: new ChatSocket(claims, opts.maxBufferedBytes, deps), headers: set.headers as Record<string, string> });
    } catch {
      // not a request this server can upgrade (e.g. one handed to app.handle): answered below
    }
    if (upgraded) return;
    throw new AppError(426, "upgrade_required", "expected a WebSocket upgrade (GET with Upgrade: websocket)");
  }, {
    query: t.Object({ token: t.Optional(t.String({ maxLength: 2048 })) }),
    detail: {
      summary: "Real-time chat socket (see README: WebSocket protocol)",
      description: "The access token goes in the subprotocols [\"bearer\", TOKEN] (recommended), an Authorization: Bearer header, or ?token=. Every frame is JSON with a type: the server sends ready, message, typing, read, presence, problem.result, error, pong; the client sends send, typing, read, resume, ping. Typing frames carry user_id: a client skips its own. A WebSocket: open it with a WebSocket client (GET with Upgrade: websocket); Swagger UI cannot.",
      "x-websocket": true,
      responses: { 101: { description: "Switching Protocols: the socket is open" }, 401: { description: "missing or invalid token" }, 426: { description: "not a WebSocket upgrade" }, 429: { description: "too many upgrades for this user" } },
    },
  });
};
