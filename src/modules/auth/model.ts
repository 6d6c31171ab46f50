import { t } from "elysia";

export const Username = t.String({ minLength: 3, maxLength: 32, pattern: "^[A-Za-z0-9_.-]+$", description: "3-32 letters, digits, _ . -" });
export const Email = t.String({ format: "email", maxLength: 254 });
export const Password = t.String({ minLength: 8, maxLength: 200 });

export const PublicUser = t.Object({
  id: t.String({ format: "uuid" }),
  username: t.String(),
  display_name: t.Union([t.String(), t.Null()]),
  bio: t.Union([t.String(), t.Null()]),
  avatar_url: t.Union([t.String(), t.Null()], { description: "GET this path (signed in) for the 128 px square avatar; null: none" }),
  created_at: t.String(),
  last_active: t.Union([t.String(), t.Null()]),
  online: t.Optional(t.Boolean()),
});
export const SelfUser = t.Composite([PublicUser, t.Object({
  email: t.String(),
  email_notifications: t.Boolean({ description: "digest emails of unread notifications (when the server sends email); PATCH to turn off" }),
  unread_notifications: t.Optional(t.Integer({ description: "unread notifications (GET /users/me and PATCH/PUT /users/me)" })),
})]);

/** A session's tokens (login, refresh, and PATCH /users/me after a password change). */
export const SessionTokens = t.Object({
  access_token: t.String(),
  refresh_token: t.String(),
  token_type: t.Literal("bearer"),
  expires_in: t.Integer({ description: "access token lifetime in seconds" }),
});

export const AuthModel = {
  register: t.Object({ username: Username, email: Email, password: Password }, { additionalProperties: false }),
  login: t.Object({
    username: t.String({ minLength: 1, maxLength: 254, description: "username or email" }),
    password: t.String({ minLength: 1, maxLength: 200 }),
  }, { additionalProperties: false }),
  tokenForm: t.Object({
    grant_type: t.Optional(t.Literal("password")),
    username: t.String({ minLength: 1, maxLength: 254 }),
    password: t.String({ minLength: 1, maxLength: 200 }),
    scope: t.Optional(t.String({ maxLength: 200 })),
  }),
  refresh: t.Object({ refresh_token: t.String({ minLength: 20, maxLength: 200 }) }, { additionalProperties: false }),
  session: t.Composite([t.Object({ user: SelfUser }), SessionTokens]),
};

export type SelfUserT = typeof SelfUser.static;
export type SessionT = typeof AuthModel.session.static;
