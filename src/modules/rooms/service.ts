/**
 * Rooms are conversations of kind "room" with roles. Public rooms can be seen
 * and joined by anyone; private rooms are invisible (404) to non-members and
 * grow only when an owner or admin adds people.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { conversationMembers, conversations, users } from "../../db/schema";
import { Conflict, Forbidden, NotFound } from "../../errors";
import { isForeignKeyViolation } from "../../db/errors";
import { rowsOf, type Db } from "../../db/client";
import type { RateLimit } from "../../plugins/rate-limit";
import type { ChatService } from "../chat/service";
import { avatarUrl } from "../users/present";
import type { CreateRoom } from "./model";

type RoomRow = {
  id: string; name: string; description: string | null; is_private: boolean; owner_id: string | null; member_count: string | number; is_member: boolean; created_at: Date | string;
  owner_username: string | null; owner_display_name: string | null; owner_avatar_key: string | null; owner_avatar_at: Date | string | null;
};

// Names are not unique (README, Rooms): the owner travels with the room so two "general"s can be told apart.
const present = (r: RoomRow) => ({
  id: r.id, name: r.name, description: r.description, is_private: r.is_private, owner_id: r.owner_id,
  owner: r.owner_id && r.owner_username ? { id: r.owner_id, username: r.owner_username, display_name: r.owner_display_name, avatar_url: avatarUrl({ id: r.owner_id, avatarKey: r.owner_avatar_key, avatarUpdatedAt: r.owner_avatar_at ? new Date(r.owner_avatar_at) : null }) } : null,
  member_count: Number(r.member_count), is_member: r.is_member, created_at: new Date(r.created_at).toISOString(),
});

export class RoomsService {
  // Creating, joining and adding members tell every new member's sockets (on every instance): limited per acting user.
  constructor(private readonly db: Db, private readonly chat: ChatService, private readonly limit: RateLimit) {}

  async create(ownerId: string, input: CreateRoom) {
    await this.limit("room-create", ownerId);
    const id = Bun.randomUUIDv7();
    const others = (input.members ?? []).filter((u) => u !== ownerId);
    try {
      await this.db.transaction(async (tx) => {
        await tx.insert(conversations).values({
          id, kind: "room", name: input.name.trim(), description: input.description ?? null, isPrivate: input.is_private ?? false, ownerId,
        });
        await tx.insert(conversationMembers).values([
          { conversationId: id, userId: ownerId, role: "owner" as const },
          ...others.map((u) => ({ conversationId: id, userId: u, role: "member" as const })),
        ]);
      });
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NotFound("user");
      throw err;
    }
    await this.chat.joined(id, [ownerId, ...others], "room");
    await this.chat.postSystem(id, { kind: "room_created", actor_id: ownerId, target_id: null, name: input.name.trim() }, "created the room");
    return this.details(ownerId, id);
  }

  private async rooms(userId: string, where: ReturnType<typeof sql>, limit = 100): Promise<RoomRow[]> {
    return rowsOf(await this.db.execute(sql`
      select c.id, c.name, c.description, c.is_private, c.owner_id, c.created_at,
        o.username as owner_username, o.display_name as owner_display_name, o.avatar_key as owner_avatar_key, o.avatar_updated_at as owner_avatar_at,
        (select count(*) from conversation_members x where x.conversation_id = c.id) as member_count,
        exists(select 1 from conversation_members me where me.conversation_id = c.id and me.user_id = ${userId}) as is_member
      from conversations c left join users o on o.id = c.owner_id
      where c.kind = 'room' and c.deleted_at is null and ${where}
      order by c.created_at desc limit ${limit}`)) as RoomRow[];
  }

  async list(userId: string, search: string | undefined, limit: number) {
    const visible = sql`(not c.is_private or exists(select 1 from conversation_members v where v.conversation_id = c.id and v.user_id = ${userId}))`;
    const term = search ? sql` and c.name ilike ${`%${search.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`}` : sql``;
    return { rooms: (await this.rooms(userId, sql`${visible}${term}`, limit)).map(present) };
  }

  /** The room if the user may see it (public, or a member of a private one), else 404. */
  private async visibleRoom(userId: string, id: string) {
    const [row] = await this.rooms(userId, sql`c.id = ${id}`, 1);
    if (!row || (row.is_private && !row.is_member)) throw new NotFound("room");
    return row;
  }

  async details(userId: string, id: string) {
    const room = await this.visibleRoom(userId, id);
    const members = await this.db.select({
      user_id: conversationMembers.userId, username: users.username, display_name: users.displayName,
      avatar_key: users.avatarKey, avatar_at: users.avatarUpdatedAt,
      role: conversationMembers.role, joined_at: conversationMembers.joinedAt,
    }).from(conversationMembers).innerJoin(users, eq(users.id, conversationMembers.userId))
      .where(eq(conversationMembers.conversationId, id)).orderBy(asc(conversationMembers.joinedAt)).limit(500);
    return { ...present(room), members: members.map(({ avatar_key, avatar_at, ...m }) => ({ ...m, avatar_url: avatarUrl({ id: m.user_id, avatarKey: avatar_key, avatarUpdatedAt: avatar_at }), joined_at: m.joined_at.toISOString() })) };
  }

  async join(userId: string, id: string) {
    await this.limit("room-join", userId);
    const room = await this.visibleRoom(userId, id);
    if (!room.is_member) {
      await this.db.insert(conversationMembers).values({ conversationId: id, userId, role: "member" }).onConflictDoNothing();
      await this.chat.joined(id, [userId], "room");
      await this.chat.postSystem(id, { kind: "joined", actor_id: userId, target_id: userId }, "joined the room");
    }
    return this.details(userId, id);
  }

  async leave(userId: string, id: string) {
    const m = await this.chat.requireMember(id, userId).catch(() => null);
    if (!m || m.kind !== "room") throw new NotFound("room");
    await this.db.transaction(async (tx) => {
      await tx.delete(conversationMembers).where(and(eq(conversationMembers.conversationId, id), eq(conversationMembers.userId, userId)));
      if (m.role !== "owner") return;
      // Hand the room to the longest-standing admin, else the longest-standing member.
      const [heir] = await tx.select({ userId: conversationMembers.userId }).from(conversationMembers)
        .where(eq(conversationMembers.conversationId, id))
        .orderBy(sql`case ${conversationMembers.role} when 'admin' then 0 else 1 end`, asc(conversationMembers.joinedAt)).limit(1);
      await tx.update(conversations).set({ ownerId: heir?.userId ?? null }).where(eq(conversations.id, id));
      if (heir) {
        await tx.update(conversationMembers).set({ role: "owner" })
          .where(and(eq(conversationMembers.conversationId, id), eq(conversationMembers.userId, heir.userId)));
      }
    });
    await this.chat.left(id, userId);
    await this.chat.postSystem(id, { kind: "left", actor_id: userId, target_id: userId }, "left the room");
    return { left: true as const };
  }

  async addMembers(userId: string, id: string, userIds: string[], role: "member" | "admin") {
    const m = await this.chat.requireMember(id, userId).catch(() => null);
    if (!m || m.kind !== "room") throw new NotFound("room");
    if (m.role === "member") throw new Forbidden("only the owner or an admin can add members");
    if (role === "admin" && m.role !== "owner") throw new Forbidden("only the owner can add admins");
    await this.limit("room-join", userId);
    const existing = await this.db.select({ id: users.id }).from(users).where(inArray(users.id, userIds));
    if (existing.length !== userIds.length) throw new NotFound("user");
    const added = await this.db.insert(conversationMembers)
      .values(userIds.map((u) => ({ conversationId: id, userId: u, role })))
      .onConflictDoNothing().returning({ userId: conversationMembers.userId });
    if (added.length === 0) throw new Conflict("every given user is already a member");
    await this.chat.joined(id, added.map((a) => a.userId), "room");
    for (const a of added) await this.chat.postSystem(id, { kind: "joined", actor_id: userId, target_id: a.userId }, "added a member");
    return this.details(userId, id);
  }
}
