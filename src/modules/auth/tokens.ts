/**
 * Access tokens are short-lived HS256 JWTs (signed through @elysiajs/jwt);
 * refresh tokens are opaque random strings stored only as SHA-256 hashes, so
 * a database leak does not hand out sessions. An access token names its
 * session (`sid`, the refresh-token family) and the user's token generation
 * (`gen`): a token below the user's current generation is refused
 * (generations.ts), which is how a password change ends other sessions early.
 */
import { Elysia } from "elysia";
import { jwt } from "@elysiajs/jwt";
import { createHash, randomBytes } from "node:crypto";
import { Unauthorized } from "../../errors";

export type AccessClaims = { sub: string; typ: "access"; sid?: string; gen?: number };
/** A verified access token: user, expiry (seconds since epoch), session (null in tokens from before sessions were named) and generation. */
export type Verified = { sub: string; exp: number; sid: string | null; gen: number };
/** Where a user's current token generation is read (generations.ts). */
export type GenerationLookup = { current(userId: string, fresh?: boolean): Promise<number> };

export class TokenService {
  private readonly signer;

  constructor(secret: string, readonly accessTtlSec: number, readonly refreshTtlSec: number, private readonly generations?: GenerationLookup) {
    this.signer = new Elysia().use(jwt({ name: "jwt", secret, alg: "HS256", exp: `${accessTtlSec}s` })).decorator.jwt;
  }

  /** Without `session` (tests' hand-made tokens) the token names no session and has generation 0. */
  signAccess(userId: string, session?: { sid: string; gen: number }): Promise<string> {
    return this.signer.sign({ sub: userId, typ: "access", ...(session ? { sid: session.sid, gen: session.gen } : {}) });
  }

  /** Returns the user id, or throws 401 (code token_expired for an expired token, invalid_token otherwise). */
  async verifyAccess(token: string): Promise<string> {
    return (await this.verifyAccessClaims(token)).sub;
  }

  /** The verified claims; 401 token_revoked when a password change ended the token's generation. */
  async verifyAccessClaims(token: string): Promise<Verified> {
    if (!token || token.length > 2048) throw new Unauthorized("invalid token", "invalid_token");
    const claims = (await this.signer.verify(token)) as false | (Partial<AccessClaims> & { exp?: number });
    if (!claims) {
      if (isExpiredButAuthentic(token)) throw new Unauthorized("token expired", "token_expired");
      throw new Unauthorized("invalid token", "invalid_token");
    }
    if (claims.typ !== "access" || typeof claims.sub !== "string" || typeof claims.exp !== "number") {
      throw new Unauthorized("invalid token", "invalid_token");
    }
    const verified = { sub: claims.sub, exp: claims.exp, sid: typeof claims.sid === "string" ? claims.sid : null, gen: typeof claims.gen === "number" ? claims.gen : 0 };
    if (!(await this.isCurrent(verified))) throw new Unauthorized("session revoked (the password was changed): log in again", "token_revoked");
    return verified;
  }

  /** Whether the token's generation is still the user's; `fresh` reads PostgreSQL instead of the cache. */
  async isCurrent(claims: Verified, fresh = false): Promise<boolean> {
    return !this.generations || claims.gen >= (await this.generations.current(claims.sub, fresh));
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
