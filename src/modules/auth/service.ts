/**
 * Registration, login, password changes and the refresh-token lifecycle.
 * Refresh tokens rotate on every use; presenting one that was already rotated
 * means it leaked, so the whole family (every token descended from the same
 * login) is revoked. A password change revokes every family of the user and
 * raises the token generation (generations.ts); the caller gets a new session.
 * Issuing a session locks the user's row (FOR SHARE), and a password change
 * updates it, so the two never interleave: no session outlives a change.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { refreshTokens, users } from "../../db/schema";
import { BadRequest, Conflict, Unauthorized } from "../../errors";
import { uniqueViolation } from "../../db/errors";
import { selfUser } from "../users/present";
import type { AuthModel, SessionT } from "./model";
import { hashToken, type TokenService } from "./tokens";

type RegisterInput = typeof AuthModel.register.static;
export type AccountLimit = { take(account: string): Promise<void>; refund(account: string): Promise<void> };
/** Told after a password change committed (generations.ts): other instances and the user's sockets. */
export type SessionRevocations = { revoked(userId: string, generation: number, exceptSession: string | null): Promise<void> };
type UserRow = typeof users.$inferSelect;

/** OWASP's argon2id baseline (19 MiB, 2 passes): strong, and cheap enough to keep login fast on 2 cores. */
export const PASSWORD_HASHING = { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 } as const;
export const hashPassword = (password: string) => Bun.password.hash(password, PASSWORD_HASHING);

/**
 * Verifying against a fixed hash when the user does not exist keeps the response time the same, so
 * timing does not reveal which usernames exist. Its value is no secret, only its cost matters: it is a
 * constant (the hash of a password no one has, made with PASSWORD_HASHING; a unit test holds the two
 * parameters together) because hashing it at module load cost every start ~0.1 s of argon2id.
 */
export const DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$KKBZIrOff0d6bazI2VjC0jgNSbsBY1KslVWL1DXcuUI$104ZOEnYdfPAj2es9ZhZb4TWNsmOyCrmMWKYMuNrvMQ";

export class AuthService {
  constructor(private readonly db: Db, private readonly tokens: TokenService, private readonly revocations?: SessionRevocations) {}

  async register(input: RegisterInput): Promise<SessionT> {
    const passwordHash = await hashPassword(input.password);
    try {
      const [user] = await this.db.insert(users).values({
        id: Bun.randomUUIDv7(),
        username: input.username,
        email: input.email.toLowerCase(),
        passwordHash,
      }).returning();
      return this.issue(this.db, user!, Bun.randomUUIDv7());
    } catch (err) {
      const constraint = uniqueViolation(err);
      if (!constraint) throw err;
      const field = constraint.includes("email") ? "email" : "username";
      throw new Conflict(`${field} is already taken`, { field });
    }
  }

  /**
   * `limitAccount` is the per-account budget of failed passwords, keyed by the account's id (or
   * the unknown name), so an account's username and email share it. A token is reserved before
   * the password is checked, so parallel guesses cannot all slip past a nearly empty bucket, and
   * given back when the password is right: only failures spend the budget. An empty bucket refuses
   * the right password too; otherwise 429-versus-200 would tell a guesser which guess was right.
   */
  async login(usernameOrEmail: string, password: string, limitAccount?: AccountLimit): Promise<SessionT> {
    const key = usernameOrEmail.trim().toLowerCase();
    const [user] = await this.db.select().from(users)
      .where(sql`lower(${users.username}) = ${key} or lower(${users.email}) = ${key}`).limit(1);
    const account = user?.id ?? key.slice(0, 254);
    await limitAccount?.take(account);
    const ok = await Bun.password.verify(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) throw new Unauthorized("invalid username or password", "invalid_credentials");
    await limitAccount?.refund(account);
    return this.db.transaction(async (tx) => {
      // A password change that committed while this one was being checked wins.
      const locked = await this.lockUser(tx, user.id);
      if (locked?.tokenGeneration !== user.tokenGeneration) throw new Unauthorized("invalid username or password", "invalid_credentials");
      return this.issue(tx, locked, Bun.randomUUIDv7());
    });
  }

  async refresh(token: string): Promise<SessionT> {
    const hash = hashToken(token);
    const [row] = await this.db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, hash)).limit(1);
    if (!row) throw new Unauthorized("invalid refresh token", "invalid_token");
    if (row.revokedAt) {
      await this.revokeFamily(row.familyId);
      throw new Unauthorized("refresh token was already used; all sessions of this login were revoked", "token_reused");
    }
    if (row.expiresAt.getTime() <= Date.now()) throw new Unauthorized("refresh token expired", "token_expired");
    const issued = await this.db.transaction(async (tx) => {
      // The user's row first: a password change running now either revoked this token already, or
      // waits for this transaction and then revokes the token issued here as well.
      const user = await this.lockUser(tx, row.userId);
      if (!user) throw new Unauthorized("invalid refresh token", "invalid_token");
      // Conditional update: of two concurrent refreshes with the same token only one wins.
      const won = await tx.update(refreshTokens).set({ revokedAt: new Date() })
        .where(and(eq(refreshTokens.id, row.id), isNull(refreshTokens.revokedAt))).returning({ id: refreshTokens.id });
      return won.length === 0 ? null : this.issue(tx, user, row.familyId);
    });
    if (!issued) {
      await this.revokeFamily(row.familyId);
      throw new Unauthorized("refresh token was already used; all sessions of this login were revoked", "token_reused");
    }
    return issued;
  }

  /**
   * Sets a new password (`current` must match) and ends every session of the user: all refresh
   * tokens are revoked, older access tokens are refused, sockets close with 4001. The caller gets a
   * fresh session (a new family); sockets of `callerSession` (its access token's family) stay open.
   */
  async changePassword(userId: string, current: string | undefined, next: string, callerSession: string | null): Promise<SessionT> {
    const [u] = await this.db.select().from(users).where(eq(users.id, userId)).limit(1);
    if (!u) throw new Unauthorized("account no longer exists");
    if (!current || !(await Bun.password.verify(current, u.passwordHash))) {
      throw new BadRequest("current_password is required and must match to change the password", [{ field: "current_password", message: "does not match" }]);
    }
    const passwordHash = await hashPassword(next);
    const { session, generation } = await this.db.transaction(async (tx) => {
      // Only if the hash is still the one just checked: of two changes racing, the second finds it gone.
      const [user] = await tx.update(users).set({ passwordHash, tokenGeneration: sql`${users.tokenGeneration} + 1` })
        .where(and(eq(users.id, userId), eq(users.passwordHash, u.passwordHash))).returning();
      if (!user) throw new BadRequest("current_password no longer matches: the password was just changed", [{ field: "current_password", message: "does not match" }]);
      await tx.update(refreshTokens).set({ revokedAt: new Date() }).where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
      return { session: await this.issue(tx, user, Bun.randomUUIDv7()), generation: user.tokenGeneration };
    });
    await this.revocations?.revoked(userId, generation, callerSession);
    return session;
  }

  /** Revokes the family of `refreshToken`, or every session of the user when none is given. */
  async logout(userId: string, refreshToken?: string): Promise<void> {
    if (refreshToken) {
      const [row] = await this.db.select().from(refreshTokens)
        .where(and(eq(refreshTokens.tokenHash, hashToken(refreshToken)), eq(refreshTokens.userId, userId))).limit(1);
      if (row) await this.revokeFamily(row.familyId);
      return;
    }
    await this.db.update(refreshTokens).set({ revokedAt: new Date() })
      .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
  }

  private async revokeFamily(familyId: string) {
    await this.db.update(refreshTokens).set({ revokedAt: new Date() })
      .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
  }

  private async lockUser(tx: Db, userId: string): Promise<UserRow | undefined> {
    const [user] = await tx.select().from(users).where(eq(users.id, userId)).for("share");
    return user;
  }

  /** A new refresh token in `familyId` and an access token naming that family and the user's generation. */
  private async issue(db: Db, user: UserRow, familyId: string): Promise<SessionT> {
    const { token, hash } = this.tokens.newRefreshToken();
    await db.insert(refreshTokens).values({
      id: Bun.randomUUIDv7(),
      userId: user.id,
      familyId,
      tokenHash: hash,
      expiresAt: new Date(Date.now() + this.tokens.refreshTtlSec * 1000),
    });
    return {
      user: selfUser(user),
      access_token: await this.tokens.signAccess(user.id, { sid: familyId, gen: user.tokenGeneration }),
      refresh_token: token,
      token_type: "bearer",
      expires_in: this.tokens.accessTtlSec,
    };
  }
}
