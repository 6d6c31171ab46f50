import { eq, ilike, or, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { users } from "../../db/schema";
import { NotFound, Unauthorized } from "../../errors";
import type { Presence } from "../../engine/types";
import { publicUser, selfUser } from "./present";
import { unreadCount } from "../notifications/jobs";
import type { SessionT } from "../auth/model";
import type { UsersModel } from "./model";

type Patch = typeof UsersModel.patchMe.static;
/** The auth service's password change (it owns sessions); see AuthService.changePassword. */
export type PasswordChanger = {
  changePassword(userId: string, current: string | undefined, next: string, callerSession: string | null): Promise<SessionT>;
};

export class UsersService {
  constructor(private readonly db: Db, private readonly presence: Presence, private readonly passwords: PasswordChanger) {}

  /** users.last_active, written by the socket hub on connect, disconnect and at most every 30 s. */
  async touchLastActive(userId: string, at: Date): Promise<void> {
    await this.db.update(users).set({ lastActive: at }).where(eq(users.id, userId));
  }

  async me(userId: string) {
    const [u] = await this.db.select().from(users).where(eq(users.id, userId)).limit(1);
    if (!u) throw new Unauthorized("account no longer exists");
    return { ...selfUser(u), unread_notifications: await unreadCount(this.db, userId) };
  }

  async byId(id: string) {
    const [u] = await this.db.select().from(users).where(eq(users.id, id)).limit(1);
    if (!u) throw new NotFound("user");
    return publicUser(u, (await this.onlineOf([u.id])).has(u.id));
  }

  async search(term: string | undefined, limit: number) {
    const pattern = `%${(term ?? "").replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const rows = await this.db.select().from(users)
      .where(or(ilike(users.username, pattern), ilike(users.displayName, pattern)))
      .orderBy(sql`lower(${users.username})`).limit(limit);
    const online = await this.onlineOf(rows.map((r) => r.id));
    return { users: rows.map((u) => publicUser(u, online.has(u.id))) };
  }

  /**
   * Applies the patch. A new password (checked first, so a wrong current_password changes nothing)
   * ends every other session and answers with `session`: the caller's fresh tokens, which replace
   * the ones it used (they are revoked with the rest).
   */
  async update(userId: string, patch: Patch, callerSession: string | null = null) {
    const values: Partial<typeof users.$inferInsert> = {};
    if (patch.display_name !== undefined) values.displayName = patch.display_name;
    if (patch.bio !== undefined) values.bio = patch.bio;
    if (patch.email_notifications !== undefined) values.emailNotifications = patch.email_notifications;
    const session = patch.password === undefined ? undefined
      : await this.passwords.changePassword(userId, patch.current_password, patch.password, callerSession);
    if (Object.keys(values).length > 0) await this.db.update(users).set(values).where(eq(users.id, userId));
    const me = await this.me(userId);
    if (!session) return me;
    const { access_token, refresh_token, token_type, expires_in } = session;
    return { ...me, session: { access_token, refresh_token, token_type, expires_in } };
  }

  /** Presence lives in Redis; when it is unreachable users simply show as offline. */
  private async onlineOf(ids: string[]): Promise<Set<string>> {
    try {
      return await this.presence.online(ids);
    } catch {
      return new Set();
    }
  }
}
