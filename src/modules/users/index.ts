import { Elysia } from "elysia";
import { authPlugin } from "../../plugins/auth";
import type { TokenService } from "../auth/tokens";
import { UsersModel } from "./model";
import type { UsersService } from "./service";

export const usersModule = (users: UsersService, tokens: TokenService) =>
  new Elysia({ prefix: "/users", tags: ["users"] })
    .use(authPlugin(tokens))
    .get("/me", ({ userId }) => users.me(userId), { auth: true, response: { 200: UsersModel.self } })
    .patch("/me", ({ userId, sessionId, body }) => users.update(userId, body, sessionId), {
      auth: true,
      body: UsersModel.patchMe,
      response: { 200: UsersModel.patched },
      detail: {
        summary: "Update display name, bio or password (password needs current_password)",
        description: "A password change revokes every session of the user (refresh tokens, access tokens, sockets on every instance) "
          + "except the caller's, which gets new tokens in `session`; the tokens the caller used are revoked too.",
      },
    })
    // "" rather than "/": the documented path is the prefix itself, as DESIGN names it (a trailing slash is still served).
    .get("", ({ query }) => users.search(query.search, query.limit ?? 20), {
      auth: true,
      query: UsersModel.search,
      response: { 200: UsersModel.list },
      detail: { summary: "Search users by username or display name" },
    })
    .get("/:id", ({ params }) => users.byId(params.id), {
      auth: true,
      params: UsersModel.params,
      response: { 200: UsersModel.public },
    });
