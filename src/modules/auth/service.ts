/**
 * Registration, login and the refresh-token lifecycle. Refresh tokens rotate
 * on every use; presenting one that was already rotated means it leaked, so
 * the whole family (every token descended from the same login) is revoked.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { refreshTokens, users } from "../../db/schema";
import { Conflict, Unauthorized } from "../../errors";
import { uniqueViolation } from "../../db/errors";
import { selfUser } from "../users/present";
import type { AuthModel, SessionT } from "./model";
import { hashToken, type TokenService } from "./tokens";

type RegisterInput = typeof AuthModel.register.static;
export type AccountLimit = { take(account: string): Promise<void>; refund(account: string): Promise<void> };

/** OWASP's argon2id baseline (19 MiB, 2 passes): strong, and cheap enough to keep login fast on 2 cores. */
export const hashPassword = (password: string) =>
  Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 });

// Verifying against a fixed hash when the user does not exist keeps the
// response time the same, so timing does not reveal which usernames exist.
const DUMMY_HASH = Bun.password.hashSync("not-a-real-password-0000", { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 });

export class AuthService {
  constructor(private readonly db: Db, private readonly tokens: TokenService) {}

  async register(input: RegisterInput): Promise<SessionT> {
    const passwordHash = await hashPassword(input.password);
    try {
      const [user] = await this.db.insert(users).values({
        id: Bun.randomUUIDv7(),
        username: input.username,
        email: input.email.toLowerCase(),
        passwordHash,
      }).returning();
      return this.issue(user!, Bun.randomUUIDv7());
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
    return this.issue(user, Bun.randomUUIDv7());
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
    // Conditional update: of two concurrent refreshes with the same token only one wins.
    const won = await this.db.update(refreshTokens).set({ revokedAt: new Date() })
      .where(and(eq(refreshTokens.id, row.id), isNull(refreshTokens.revokedAt))).returning({ id: refreshTokens.id });
    if (won.length === 0) {
      await this.revokeFamily(row.familyId);
      throw new Unauthorized("refresh token was already used; all sessions of this login were revoked", "token_reused");
    }
    const [user] = await this.db.select().from(users).where(eq(users.id, row.userId)).limit(1);
    if (!user) throw new Unauthorized("invalid refresh token", "invalid_token");
    return this.issue(user, row.familyId);
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

  private async issue(user: typeof users.$inferSelect, familyId: string): Promise<SessionT> {
    const { token, hash } = this.tokens.newRefreshToken();
    await this.db.insert(refreshTokens).values({
      id: Bun.randomUUIDv7(),
      userId: user.id,
      familyId,
      tokenHash: hash,
      expiresAt: new Date(Date.now() + this.tokens.refreshTtlSec * 1000),
    });
    return {
      user: selfUser(user),
      access_token: await this.tokens.signAccess(user.id),
      refresh_token: token,
      token_type: "bearer",
      expires_in: this.tokens.accessTtlSec,
    };
  }
}
