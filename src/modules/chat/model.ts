import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { MessageSchema } from "../../engine/message";

export const MAX_CONTENT = 4000;

const Uuid = (description: string) => t.String({ format: "uuid", description });
const ClientId = t.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.:-]+$", description: "idempotency key chosen by the client" });
// Length is checked again after trimming in the service (whitespace-only content is refused).
const Content = t.String({ minLength: 1, maxLength: MAX_CONTENT * 2, description: `1..${MAX_CONTENT} characters after trimming` });

/** The message schema lives with the ports (one source for engine, API and frames). */
export const Message = MessageSchema;

export const ChatModel = {
  send: t.Object({
    to: t.Optional(Uuid("user id: send a direct message (creates the conversation on first use)")),
    conversation_id: t.Optional(Uuid("an existing conversation (direct or room)")),
    content: Content,
    client_id: t.Optional(ClientId),
  }, { additionalProperties: false }),
  sent: t.Object({ message: Message }),
  historyQuery: t.Object({
    with: t.Optional(Uuid("the other user of a direct conversation")),
    conversation_id: t.Optional(Uuid("conversation id")),
    before_seq: t.Optional(t.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 50 })),
  }),
  pageQuery: t.Object({
    before_seq: t.Optional(t.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 50 })),
  }),
  messageParams: t.Object({ id: Uuid("message id") }),
  conversationParams: t.Object({ id: Uuid("conversation id") }),
  edit: t.Object({ content: Content }, { additionalProperties: false }),
  cleared: t.Object({ conversation_id: t.String(), cleared_seq: t.Integer({ description: "history up to this seq is hidden for you" }) }),
  hidden: t.Object({ conversation_id: t.String(), hidden: t.Literal(true) }),
  searchQuery: t.Object({
    q: t.String({ minLength: 1, maxLength: 200, description: "words to find (websearch syntax: \"a phrase\", -not, or)" }),
    conversation_id: t.Optional(Uuid("only this conversation")),
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 50, default: 20 })),
    before: t.Optional(Uuid("next page: the next_before of the previous answer")),
  }),
  searchResults: t.Object({
    results: t.Array(t.Object({
      conversation_id: t.String(),
      conversation_kind: t.Union([t.Literal("direct"), t.Literal("room")]),
      conversation_name: t.Union([t.String(), t.Null()], { description: "the room's name; null for a direct conversation" }),
      message: Message,
      snippet: t.String({ description: "safe HTML: the content HTML-escaped, matches in <mark>" }),
    })),
    next_before: t.Union([t.String(), t.Null()], { description: "pass as `before` for older results; null when there are none" }),
  }),
  history: t.Object({ conversation_id: t.String(), messages: t.Array(Message), has_more: t.Boolean() }),
  read: t.Object({ conversation_id: Uuid("conversation id"), seq: t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false }),
  readResult: t.Object({ conversation_id: t.String(), last_read_seq: t.Integer() }),
  conversation: t.Object({
    id: t.String(),
    kind: t.Union([t.Literal("direct"), t.Literal("room")]),
    name: t.Union([t.String(), t.Null()]),
    peer: t.Union([t.Object({ id: t.String(), username: t.String(), display_name: t.Union([t.String(), t.Null()]), avatar_url: t.Union([t.String(), t.Null()]), online: t.Boolean(), last_active: t.Union([t.String(), t.Null()]) }), t.Null()]),
    last_seq: t.Integer(),
    last_read_seq: t.Integer(),
    unread: t.Integer(),
    last_message: t.Union([Message, t.Null()]),
    last_activity: t.String(),
  }),
};

/**
 * A seq in a socket frame: a JSON number, nothing else. Elysia's t.Integer also
 * takes integer-looking strings ("\t", "1e3", "1.0", "-5") and turns them into
 * numbers only when a route decodes its input; the socket handler only checks
 * frames (TypeCompiler Check), so such a string reached PostgreSQL as it was,
 * failed bigint input and came back as a 500 error frame (WS fuzzing, seed
 * 1341020241, path 1200). Plain TypeBox Integer refuses strings.
 */
const FrameSeq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** Frames a client may send over /chat/subscribe. */
export const ClientFrame = t.Union([
  // The same fields as POST /chat/send, plus the frame type.
  t.Object({ type: t.Literal("send"), ...ChatModel.send.properties }, { additionalProperties: false }),
  t.Object({ type: t.Literal("typing"), conversation_id: Uuid("conversation id") }, { additionalProperties: false }),
  t.Object({ type: t.Literal("read"), conversation_id: Uuid("conversation id"), seq: FrameSeq }, { additionalProperties: false }),
  t.Object({ type: t.Literal("resume"), conversation_id: Uuid("conversation id"), after_seq: FrameSeq }, { additionalProperties: false }),
  t.Object({ type: t.Literal("ping"), id: t.Optional(t.Union([t.String({ maxLength: 64 }), t.Number()])) }, { additionalProperties: false }),
]);

export type SendInput = typeof ChatModel.send.static;
export type MessageT = typeof Message.static;
export type ClientFrameT = typeof ClientFrame.static;
