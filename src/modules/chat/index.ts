import { Elysia, t } from "elysia";
import { authPlugin } from "../../plugins/auth";
import { BadRequest, NotFound } from "../../errors";
import type { TokenService } from "../auth/tokens";
import { ChatModel } from "./model";
import type { ChatService } from "./service";
import type { MessageChanges } from "./changes";
import type { ChatSearch } from "./search";

export const chatModule = (chat: ChatService, changes: MessageChanges, search: ChatSearch, tokens: TokenService) =>
  new Elysia({ prefix: "/chat", tags: ["chat"] })
    .use(authPlugin(tokens))
    .post("/send", async ({ userId, body, set }) => {
      // A retry with the same client_id gets the same answer as the first call: 201 and the original message.
      const { message } = await chat.send(userId, body);
      set.status = 201;
      return { message };
    }, {
      auth: true,
      body: ChatModel.send,
      response: { 201: ChatModel.sent },
      detail: { summary: "Send a message; a retry with the same client_id returns the original message" },
    })
    .get("/history", async ({ userId, query }) => {
      if (!!query.with === !!query.conversation_id) {
        throw new BadRequest("give exactly one of `with` or `conversation_id`", [{ field: "with", message: "exactly one of with/conversation_id" }]);
      }
      const cid = query.conversation_id ?? (await chat.directWith(userId, query.with!));
      if (!cid) throw new NotFound("conversation");
      return chat.history(userId, cid, query.before_seq, query.limit ?? 50);
    }, {
      auth: true,
      query: ChatModel.historyQuery,
      response: { 200: ChatModel.history },
      detail: { summary: "History, ascending by seq; page backwards with before_seq" },
    })
    .get("/conversations", async ({ userId }) => ({ conversations: await chat.listConversations(userId) }), {
      auth: true,
      response: { 200: t.Object({ conversations: t.Array(ChatModel.conversation) }) },
      detail: { summary: "My conversations with last message, unread count and presence, by last activity" },
    })
    .post("/read", ({ userId, body }) => chat.markRead(userId, body.conversation_id, body.seq), {
      auth: true,
      body: ChatModel.read,
      response: { 200: ChatModel.readResult },
      detail: { summary: "Mark messages up to seq as read" },
    })
    .get("/search", ({ userId, query }) => search.search(userId, query), {
      auth: true,
      query: ChatModel.searchQuery,
      response: { 200: ChatModel.searchResults },
      detail: {
        summary: "Full-text search over my conversations, newest first",
        description: "Text messages of conversations I belong to, after my cleared history, not deleted. PostgreSQL only: a message sent a moment ago (still in the outbox) appears once persisted, normally within milliseconds. Page with before = next_before.",
      },
    })
    .patch("/messages/:id", ({ userId, params, body }) => changes.edit(userId, params.id, body.content), {
      auth: true,
      params: ChatModel.messageParams,
      body: ChatModel.edit,
      response: { 200: ChatModel.sent },
      detail: {
        summary: "Edit your message (text only, within MESSAGE_EDIT_WINDOW_SEC)",
        description: "The message keeps its seq and gets is_edited and edited_at; an `edit` entry (ref_id, ref_seq, the new content) takes the next seq and reaches every member live and on resume. Others' messages: 403; not a member: 404.",
      },
    })
    .delete("/messages/:id", ({ userId, params }) => changes.remove(userId, params.id), {
      auth: true,
      params: ChatModel.messageParams,
      response: { 200: ChatModel.sent },
      detail: {
        summary: "Delete a message (the sender, or a room's owner or admin)",
        description: "The content leaves Redis and PostgreSQL; a tombstone (deleted: true, empty content) stays in its place. A `delete` entry takes the next seq. A deleted file message's attachment is no longer served.",
      },
    })
    .delete("/conversations/:id/history", ({ userId, params }) => changes.clearHistory(userId, params.id), {
      auth: true,
      params: ChatModel.conversationParams,
      response: { 200: ChatModel.cleared },
      detail: { summary: "Clear my history: everything up to now is hidden for me only (history, resume, unread, search)" },
    })
    .delete("/conversations/:id", ({ userId, params }) => changes.hide(userId, params.id), {
      auth: true,
      params: ChatModel.conversationParams,
      response: { 200: ChatModel.hidden },
      detail: { summary: "Leave a direct conversation: hidden from my list until a new message arrives (rooms: POST /rooms/{id}/leave)" },
    });
