import { t } from "elysia";
import { PublicUser, SelfUser, SessionTokens } from "../auth/model";

export const UserId = t.Object({ id: t.String({ format: "uuid", description: "user id (UUID)" }) });

export const UsersModel = {
  params: UserId,
  search: t.Object({
    search: t.Optional(t.String({ maxLength: 64 })),
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 50, default: 20 })),
  }),
  patchMe: t.Object({
    display_name: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 64 }), t.Null()])),
    bio: t.Optional(t.Union([t.String({ maxLength: 500 }), t.Null()])),
    password: t.Optional(t.String({ minLength: 8, maxLength: 200 })),
    current_password: t.Optional(t.String({ maxLength: 200 })),
    email_notifications: t.Optional(t.Boolean({ description: "false: no digest emails of unread notifications" })),
  }, { additionalProperties: false }),
  avatar: t.Object({ file: t.File({ description: "the image: PNG, JPEG, GIF or WebP (decided from its bytes)" }) }),
  public: PublicUser,
  self: SelfUser,
  /** PATCH /users/me: the user, plus `session` (fresh tokens for the caller) when the password changed. */
  patched: t.Composite([SelfUser, t.Object({
    session: t.Optional(t.Object(SessionTokens.properties, {
      description: "only when the password changed: the caller's new tokens; every other session, and the caller's old tokens, were revoked",
    })),
  })]),
  list: t.Object({ users: t.Array(PublicUser) }),
};
