import { Elysia, t } from "elysia";
import { authPlugin } from "../../plugins/auth";
import { BadRequest, NotFound } from "../../errors";
import type { TokenService } from "../auth/tokens";
import { ChatModel } from "./model";
import type { ChatService } from "./service";

export const chatModule = (chat: ChatService, tokens: TokenService) =>
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
    });
