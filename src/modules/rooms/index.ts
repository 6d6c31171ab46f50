import { Elysia, t } from "elysia";
import { authPlugin } from "../../plugins/auth";
import type { TokenService } from "../auth/tokens";
import { ChatModel } from "../chat/model";
import type { ChatService } from "../chat/service";
import { RoomsModel } from "./model";
import type { RoomsService } from "./service";
import type { RoomAdmin } from "./admin";

export const roomsModule = (rooms: RoomsService, admin: RoomAdmin, chat: ChatService, tokens: TokenService) =>
  new Elysia({ prefix: "/rooms", tags: ["rooms"] })
    .use(authPlugin(tokens))
    // "" rather than "/": the documented path is the prefix itself, as DESIGN names it (a trailing slash is still served).
    .post("", async ({ userId, body, set }) => {
      set.status = 201;
      return rooms.create(userId, body);
    }, { auth: true, body: RoomsModel.create, response: { 201: RoomsModel.details }, detail: { summary: "Create a room; you become its owner" } })
    .get("", ({ userId, query }) => rooms.list(userId, query.search, query.limit ?? 50), {
      auth: true, query: RoomsModel.listQuery, response: { 200: RoomsModel.list }, detail: { summary: "Public rooms and the rooms I am in" },
    })
    .get("/:id", ({ userId, params }) => rooms.details(userId, params.id), {
      auth: true, params: RoomsModel.params, response: { 200: RoomsModel.details }, detail: { summary: "Room details with members and roles" },
    })
    .post("/:id/join", ({ userId, params }) => rooms.join(userId, params.id), {
      auth: true, params: RoomsModel.params, response: { 200: RoomsModel.details }, detail: { summary: "Join a public room", description: "No request body: send none, or an empty JSON object." },
    })
    .post("/:id/leave", ({ userId, params }) => rooms.leave(userId, params.id), {
      auth: true, params: RoomsModel.params, response: { 200: t.Object({ left: t.Literal(true) }) }, detail: { summary: "Leave a room (an owner hands it on)", description: "No request body: send none, or an empty JSON object." },
    })
    .post("/:id/members", ({ userId, params, body }) => rooms.addMembers(userId, params.id, body.user_ids, body.role ?? "member"), {
      auth: true, params: RoomsModel.params, body: RoomsModel.addMembers, response: { 200: RoomsModel.details },
      detail: { summary: "Owner/admin: add members (owner only: admins)" },
    })
    .get("/:id/messages", ({ userId, params, query }) => chat.history(userId, params.id, query.before_seq, query.limit ?? 50), {
      auth: true, params: RoomsModel.params, query: ChatModel.pageQuery, response: { 200: ChatModel.history }, detail: { summary: "The room's history" },
    })
    .patch("/:id", ({ userId, params, body }) => admin.update(userId, params.id, body), {
      auth: true, params: RoomsModel.params, body: RoomsModel.update, response: { 200: RoomsModel.details },
      detail: { summary: "Owner/admin: rename, describe, make private or public (a system line tells the room)" },
    })
    .delete("/:id", ({ userId, params }) => admin.remove(userId, params.id), {
      auth: true, params: RoomsModel.params, response: { 200: RoomsModel.deleted },
      detail: { summary: "Owner: delete the room and its history; members' sockets get conversation.left (reason deleted)" },
    })
    .delete("/:id/members/:user_id", ({ userId, params }) => admin.removeMember(userId, params.id, params.user_id), {
      auth: true, params: RoomsModel.memberParams, response: { 200: RoomsModel.details },
      detail: { summary: "Owner/admin: remove a member (admins remove members only; never the owner); their sockets stop receiving the room at once" },
    })
    .patch("/:id/members/:user_id", ({ userId, params, body }) => admin.setRole(userId, params.id, params.user_id, body.role), {
      auth: true, params: RoomsModel.memberParams, body: RoomsModel.setRole, response: { 200: RoomsModel.details },
      detail: { summary: "Owner: make a member admin or member, or hand the room over (role owner)" },
    });
