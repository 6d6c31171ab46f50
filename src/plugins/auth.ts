/**
 * `{ auth: true }` on a route requires a valid access token and puts the
 * caller's id in `userId` and its session (refresh-token family, null for
 * tokens that name none) in `sessionId`. Documented in OpenAPI as either
 * scheme: a pasted token (bearerAuth) or Swagger UI's Authorize with a
 * password (oauth2, via /auth/token). Both end as the same `Authorization:
 * Bearer` header; listing only one makes Swagger UI leave the other's token
 * off every request.
 */
import { Elysia } from "elysia";
import { Unauthorized } from "../errors";
import type { TokenService } from "../modules/auth/tokens";

export function bearerFrom(header: string | undefined | null): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return m ? m[1]! : null;
}

export const authPlugin = (tokens: TokenService) =>
  new Elysia({ name: "auth" }).macro({
    auth: {
      detail: { security: [{ bearerAuth: [] }, { oauth2: [] }] },
      async resolve({ headers }) {
        const token = bearerFrom(headers.authorization);
        if (!token) throw new Unauthorized("missing bearer token");
        const claims = await tokens.verifyAccessClaims(token);
        return { userId: claims.sub, sessionId: claims.sid };
      },
    },
  });
