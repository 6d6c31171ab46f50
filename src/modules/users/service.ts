import { eq, ilike, or, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { users } from "../../db/schema";
import { BadRequest, NotFound, Unauthorized } from "../../errors";
import type { Presence } from "../../engine/types";
import { publicUser, selfUser } from "./present";
import { hashPassword } from "../auth/service";
import type { UsersModel } from "./model";

type Patch = typeof UsersModel.patchMe.static;

export class UsersService {
  constructor(private readonly db: Db, private readonly presence: Presence) {}

  /** users.last_active, written by the socket hub on connect, disconnect and at most every 30 s. */
  async touchLastActive(userId: string, at: Date): Promise<void> {
    await this.db.update(users).set({ lastActive: at }).where(eq(users.id, userId));
  }

  async me(userId: string) {
    const [u] = await this.db.select().from(users).where(eq(users.id, userId)).limit(1);
    if (!u) throw new Unauthorized("account no longer exists");
    return selfUser(u);
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

  async update(userId: string, patch: Patch) {
    const values: Partial<typeof users.$inferInsert> = {};
    if (patch.display_name !== undefined) values.displayName = patch.display_name;
    if (patch.bio !== undefined) values.bio = patch.bio;
    if (patch.password !== undefined) {
      const [u] = await this.db.select().from(users).where(eq(users.id, userId)).limit(1);
      if (!u) throw new Unauthorized("account no longer exists");
      if (!patch.current_password || !(await Bun.password.verify(patch.current_password, u.passwordHash))) {
        throw new BadRequest("current_password is required and must match to change the password", [{ field: "current_password", message: "does not match" }]);
      }
      values.passwordHash = await hashPassword(patch.password);
    }
    if (Object.keys(values).length > 0) await this.db.update(users).set(values).where(eq(users.id, userId));
    return this.me(userId);
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
