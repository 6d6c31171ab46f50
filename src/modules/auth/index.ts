import { Elysia, t } from "elysia";
import { clientIpResolver, type ClientIp } from "../../lib/client-ip";
import { authPlugin } from "../../plugins/auth";
import type { RefundableRateLimit } from "../../plugins/rate-limit";
import { AuthModel } from "./model";
import type { AccountLimit, AuthService } from "./service";
import type { TokenService } from "./tokens";

// `clientIp` comes from TRUSTED_PROXIES (lib/client-ip.ts); the default believes no proxy header.
export const authModule = (auth: AuthService, tokens: TokenService, limit: RefundableRateLimit, clientIp: ClientIp = clientIpResolver("")) => {
  const perAccount: AccountLimit = {
    take: (account) => limit("login-account", account),
    refund: (account) => limit.refund("login-account", account),
  };
  return new Elysia({ prefix: "/auth", tags: ["auth"] })
    .use(authPlugin(tokens))
    .post("/register", async ({ body, set, request, server }) => {
      await limit("register", clientIp(request, server));
      set.status = 201;
      return auth.register(body);
    }, { body: AuthModel.register, response: { 201: AuthModel.session }, detail: { summary: "Create an account" } })
    .post("/login", async ({ body, request, server }) => {
      await limit("login-ip", clientIp(request, server));
      return auth.login(body.username, body.password, perAccount);
    }, { body: AuthModel.login, response: { 200: AuthModel.session }, detail: { summary: "Log in with username or email" } })
    .post("/token", async ({ body, request, server }) => {
      await limit("login-ip", clientIp(request, server));
      return auth.login(body.username, body.password, perAccount);
    }, {
      body: AuthModel.tokenForm,
      parse: ["urlencoded", "json"],
      response: { 200: AuthModel.session },
      detail: { summary: "OAuth2 password grant (form), used by the docs' Authorize button" },
    })
    .post("/refresh", async ({ body, request, server }) => {
      await limit("refresh", clientIp(request, server));
      return auth.refresh(body.refresh_token);
    }, { body: AuthModel.refresh, response: { 200: AuthModel.session }, detail: { summary: "Rotate a refresh token" } })
    .post("/logout", async ({ userId, body, set }) => {
      await auth.logout(userId, body?.refresh_token);
      set.status = 204;
    }, {
      auth: true,
      // Elysia's parser for an optional body takes malformed JSON for "no body", which here means
      // "revoke every session": parse strictly; only an empty body means none.
      parse: async ({ request }) => {
        const text = await request.text();
        return text.trim() === "" ? {} : JSON.parse(text);
      },
      body: t.Optional(t.Object({ refresh_token: t.Optional(t.String({ maxLength: 200 })) })),
      detail: { summary: "Revoke the given refresh token's family, or every session when none is given" },
    });
};
