import { Elysia, t } from "elysia";
import { authPlugin, bearerFrom } from "../../plugins/auth";
import type { RateLimit } from "../../plugins/rate-limit";
import { Unauthorized } from "../../errors";
import type { TokenService } from "../auth/tokens";
import { readMultipartForm } from "../files/multipart";
import type { AvatarService } from "./avatar";
import { UsersModel } from "./model";
import type { UsersService } from "./service";

const PATCH_DETAIL = {
  summary: "Update display name, bio, email_notifications or password (password needs current_password)",
  description: "A password change revokes every session of the user (refresh tokens, access tokens, sockets on every instance) "
    + "except the caller's, which gets new tokens in `session`; the tokens the caller used are revoked too.",
};

export const usersModule = (users: UsersService, avatars: AvatarService, tokens: TokenService, limit: RateLimit) =>
  new Elysia({ prefix: "/users", tags: ["users"] })
    .use(authPlugin(tokens))
    .get("/me", ({ userId }) => users.me(userId), { auth: true, response: { 200: UsersModel.self }, detail: { summary: "The caller's own profile (with email)" } })
    .patch("/me", ({ userId, sessionId, body }) => users.update(userId, body, sessionId), {
      auth: true, body: UsersModel.patchMe, response: { 200: UsersModel.patched }, detail: PATCH_DETAIL,
    })
    // Clients written against PUT (seed 001) get the same partial update.
    .put("/me", ({ userId, sessionId, body }) => users.update(userId, body, sessionId), {
      auth: true, body: UsersModel.patchMe, response: { 200: UsersModel.patched },
      detail: { ...PATCH_DETAIL, summary: "Alias of PATCH /users/me (a partial update, not a replacement)" },
    })
    .put("/me/avatar", async ({ userId, body }) => {
      await avatars.set(userId, body.file);
      return users.me(userId);
    }, {
      auth: true,
      parse: [
        // Authenticate and rate-limit (the upload bucket, shared with file uploads) before reading a byte of the body.
        async ({ request }) => {
          const token = bearerFrom(request.headers.get("authorization"));
          if (!token) throw new Unauthorized("missing bearer token");
          const userId = await tokens.verifyAccess(token);
          await limit("upload", userId);
          avatars.checkIdle(userId);
          const form = await readMultipartForm(request, avatars.maxUploadBytes, "send the image as multipart/form-data with a field `file`");
          return { file: form.get("file") ?? undefined };
        },
        // Never reached (the parser above always answers); it makes the OpenAPI document say multipart/form-data.
        "multipart/form-data",
      ],
      body: UsersModel.avatar,
      response: { 200: UsersModel.self },
      detail: {
        summary: "Set your avatar: an image (PNG, JPEG, GIF or WebP, type decided from its bytes, at most MAX_UPLOAD_BYTES)",
        description: "Stored as a 128 px square (centre crop) without metadata; answers your profile with the new `avatar_url`. "
          + "400 when the image cannot be decoded or is too large in pixels, 415 when it is not an image, 413 past the size limit.",
      },
    })
    .delete("/me/avatar", async ({ userId }) => {
      await avatars.remove(userId);
      return users.me(userId);
    }, { auth: true, response: { 200: UsersModel.self }, detail: { summary: "Remove your avatar (avatar_url becomes null)" } })
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
      detail: { summary: "A user's public profile" },
    })
    .get("/:id/avatar", async ({ params }) => {
      const { blob, contentType } = await avatars.open(params.id);
      return new Response(blob, {
        headers: {
          "content-type": contentType,
          "x-content-type-options": "nosniff",
          "content-security-policy": "default-src 'none'; sandbox",
          "cross-origin-resource-policy": "same-origin",
          // avatar_url changes with the picture (?v=), so a cached copy is never stale for long.
          "cache-control": "private, max-age=86400",
        },
      });
    }, {
      auth: true,
      params: t.Object({ id: t.String({ description: "user id; a malformed id is a user without an avatar (404)" }) }),
      detail: {
        summary: "A user's avatar (any signed-in user may fetch it)",
        responses: {
          200: { description: "128 px square, PNG (JPEG when uploaded as JPEG)", content: { "image/png": { schema: { type: "string" as const, format: "binary" } } } },
          404: { description: "the user has no avatar (or does not exist)" },
        },
      },
    });
