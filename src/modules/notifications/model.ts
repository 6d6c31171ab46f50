import { t } from "elysia";
import type { notifications } from "../../db/schema";

export type NotificationRow = typeof notifications.$inferSelect;

const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);

export const Sender = t.Object({
  id: t.String(), username: t.String(), display_name: Nullable(t.String()), avatar_url: Nullable(t.String()),
});

/** What one notification says, in GET /notifications and (without id and read_at) in the `notification` WS frame. */
const About = {
  kind: t.Union([t.Literal("mention"), t.Literal("direct")], { description: "mention: @username in a room; direct: a direct message" }),
  conversation_id: t.String(),
  message_id: t.String(),
  seq: t.Integer({ description: "the message's seq in its conversation (open the conversation there)" }),
  sender: Nullable(Sender),
  excerpt: t.String({ description: "the start of the message as it is now: edited text once the edit is stored, `(message deleted)` once deleted; a file's name for a file" }),
  created_at: t.String(),
};

export const Notification = t.Object({ id: t.String(), ...About, read_at: Nullable(t.String()) });

/** The `notification` frame sent to a user's sockets when they were online as the message arrived (no row is stored then). */
export const NotificationFrame = t.Object({ type: t.Literal("notification"), notification: t.Object(About) });

export const NotificationsModel = {
  list: t.Object({
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 20 })),
    cursor: t.Optional(t.String({ pattern: "^[01]:[0-9a-fA-F-]{36}$", description: "next_cursor of the previous page" })),
  }),
  page: t.Object({
    notifications: t.Array(Notification, { description: "unread first, then read; newest first within each" }),
    unread_count: t.Integer(),
    next_cursor: Nullable(t.String({ description: "pass as `cursor` for the next page; null on the last page" })),
  }),
  read: t.Object({
    ids: t.Optional(t.Array(t.String({ format: "uuid" }), { minItems: 1, maxItems: 100 })),
    all: t.Optional(t.Literal(true)),
  }, { additionalProperties: false, description: "either `ids` (your notifications to mark read) or `all: true`" }),
  readResult: t.Object({ updated: t.Integer({ description: "notifications that were unread and now are read" }), unread_count: t.Integer() }),
  muteParams: t.Object({ id: t.String({ format: "uuid", description: "conversation id" }) }),
  mute: t.Object({
    until: t.Optional(t.String({ format: "date-time", description: "ISO 8601; absent: until unmuted; a time in the past unmutes" })),
  }, { additionalProperties: false }),
  muted: t.Object({
    conversation_id: t.String(),
    muted: t.Boolean(),
    muted_until: Nullable(t.String({ description: "null: muted until unmuted (when `muted`), or not muted" })),
  }),
};

export type NotificationAbout = typeof NotificationFrame.static["notification"];
