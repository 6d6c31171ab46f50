import { t } from "elysia";
import { PublicUser, SelfUser } from "../auth/model";

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
  }, { additionalProperties: false }),
  public: PublicUser,
  self: SelfUser,
  list: t.Object({ users: t.Array(PublicUser) }),
};
