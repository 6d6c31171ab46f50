/**
 * Access tokens are short-lived HS256 JWTs (signed through @elysiajs/jwt);
 * refresh tokens are opaque random strings stored only as SHA-256 hashes, so
 * a database leak does not hand out sessions.
 */
import { Elysia } from "elysia";
import { jwt } from "@elysiajs/jwt";
import { createHash, randomBytes } from "node:crypto";
import { Unauthorized } from "../../errors";

export type AccessClaims = { sub: string; typ: "access" };

export class TokenService {
  private readonly signer;

  constructor(secret: string, readonly accessTtlSec: number, readonly refreshTtlSec: number) {
    this.signer = new Elysia().use(jwt({ name: "jwt", secret, alg: "HS256", exp: `${accessTtlSec}s` })).decorator.jwt;
  }

  signAccess(userId: string): Promise<string> {
    return this.signer.sign({ sub: userId, typ: "access" });
  }

  /** Returns the user id, or throws 401 (code token_expired for an expired token, invalid_token otherwise). */
  async verifyAccess(token: string): Promise<string> {
    return (await this.verifyAccessClaims(token)).sub;
  }

  /** The verified claims: user id and expiry (seconds since epoch). */
  async verifyAccessClaims(token: string): Promise<{ sub: string; exp: number }> {
    if (!token || token.length > 2048) throw new Unauthorized("invalid token", "invalid_token");
    const claims = (await this.signer.verify(token)) as false | (Partial<AccessClaims> & { exp?: number });
    if (!claims) {
      if (isExpiredButAuthentic(token)) throw new Unauthorized("token expired", "token_expired");
      throw new Unauthorized("invalid token", "invalid_token");
    }
    if (claims.typ !== "access" || typeof claims.sub !== "string" || typeof claims.exp !== "number") {
      throw new Unauthorized("invalid token", "invalid_token");
    }
    return { sub: claims.sub, exp: claims.exp };
  }

  newRefreshToken(): { token: string; hash: string } {
    const token = randomBytes(32).toString("base64url");
    return { token, hash: hashToken(token) };
  }
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/**
 * Picks the message only: the token was already rejected. A forged token with
 * a past `exp` also reads "expired"; either way the answer is 401.
 */
function isExpiredButAuthentic(token: string): boolean {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    return typeof payload.exp === "number" && payload.exp * 1000 < Date.now();
  } catch {
    return false;
  }
}
