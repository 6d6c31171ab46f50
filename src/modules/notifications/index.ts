import { Elysia, t } from "elysia";
import { authPlugin } from "../../plugins/auth";
import type { TokenService } from "../auth/tokens";
import { NotificationsModel } from "./model";
import type { NotificationsService } from "./service";

/** GET /notifications, POST /notifications/read, and the conversation mute (it decides what notifies). */
export const notificationsModule = (notifications: NotificationsService, tokens: TokenService) =>
  new Elysia({ tags: ["notifications"] })
    .use(authPlugin(tokens))
    .get("/notifications", ({ userId, query }) => notifications.list(userId, query.limit ?? 20, query.cursor), {
      auth: true,
      query: NotificationsModel.list,
      response: { 200: NotificationsModel.page },
      detail: {
        summary: "Your notifications: mentions and direct messages that arrived while you were offline; unread first, newest first",
        description: "While you are online (a socket on any instance) nothing is stored: your sockets get a `notification` frame instead. "
          + "Page with `cursor` = the previous page's `next_cursor`.",
      },
    })
    .post("/notifications/read", ({ userId, body }) => notifications.markRead(userId, body), {
      auth: true,
      body: NotificationsModel.read,
      response: { 200: NotificationsModel.readResult },
      detail: { summary: "Mark notifications read: `ids` (yours; others are ignored) or `all: true`" },
    })
    .post("/chat/conversations/:id/mute", ({ userId, params, body }) => notifications.mute(userId, params.id, body?.until), {
      auth: true,
      params: NotificationsModel.muteParams,
      body: t.Optional(NotificationsModel.mute),
      response: { 200: NotificationsModel.muted },
      detail: {
        tags: ["chat"],
        summary: "Mute a conversation: no notifications (rows, frames, emails) from it until `until`, or until unmuted",
        description: "Members only (404 otherwise). `until` in the past unmutes. Messages still arrive as usual.",
      },
    });
