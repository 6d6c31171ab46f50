/**
 * Room administration: settings, removing members, roles and ownership,
 * deleting the room. Roles are read fresh from PostgreSQL (never the 5 s
 * membership cache): a demoted admin loses their powers at once. Each change
 * is written into the room as a system line (delivered and replayed like a
 * message); whoever loses the room is told on their user channel, so their
 * sockets on every instance stop following it at once.
 */
import { and, eq, sql } from "drizzle-orm";
import { conversationMembers, conversations, files, messages } from "../../db/schema";
import { BadRequest, Forbidden, NotFound } from "../../errors";
import type { Db } from "../../db/client";
import type { Engine } from "../../engine/types";
import { EngineUnavailableError } from "../../engine/errors";
import type { ChatService } from "../chat/service";
import type { Membership } from "../chat/repo";
import type { RoomsService } from "./service";
import type { RoomRole, UpdateRoom } from "./model";

export class RoomAdmin {
  constructor(private readonly db: Db, private readonly chat: ChatService, private readonly rooms: RoomsService, private readonly engine: Engine) {}

  /** The caller's membership of room `id` (404 when not a member or not a room) with at least `least`. */
  private async role(userId: string, id: string, least: "admin" | "owner"): Promise<Membership> {
    const m = await this.chat.requireMember(id, userId, true).catch((err) => {
      throw err instanceof NotFound ? new NotFound("room") : err;
    });
    if (m.kind !== "room") throw new NotFound("room");
    if (least === "owner" && m.role !== "owner") throw new Forbidden("only the room's owner can do this");
    if (m.role === "member") throw new Forbidden("only the room's owner or an admin can do this");
    return m;
  }

  private async memberRole(id: string, userId: string): Promise<RoomRole | null> {
    const [row] = await this.db.select({ role: conversationMembers.role }).from(conversationMembers)
      .where(and(eq(conversationMembers.conversationId, id), eq(conversationMembers.userId, userId)));
    return row?.role ?? null;
  }

  async update(userId: string, id: string, input: UpdateRoom) {
    await this.role(userId, id, "admin");
    const [before] = await this.db.select({ name: conversations.name }).from(conversations).where(eq(conversations.id, id));
    const set: Partial<typeof conversations.$inferInsert> = {};
    const name = input.name?.trim();
    if (name !== undefined) {
      if (!name) throw new BadRequest("name must not be blank", [{ field: "name", message: "blank" }]);
      set.name = name;
    }
    if (input.description !== undefined) set.description = input.description;
    if (input.is_private !== undefined) set.isPrivate = input.is_private;
    if (Object.keys(set).length === 0) throw new BadRequest("give at least one of name, description, is_private", [{ field: "name", message: "nothing to change" }]);
    await this.db.update(conversations).set(set).where(eq(conversations.id, id));
    if (name !== undefined && name !== before?.name) {
      await this.chat.postSystem(id, { kind: "room_renamed", actor_id: userId, target_id: null, name }, `renamed the room to ${name}`);
    } else {
      await this.chat.postSystem(id, { kind: "room_updated", actor_id: userId, target_id: null }, "changed the room's settings");
    }
    return this.rooms.details(userId, id);
  }

  /** The owner removes anyone else; an admin removes members (not admins, never the owner). */
  async removeMember(userId: string, id: string, targetId: string) {
    const me = await this.role(userId, id, "admin");
    if (targetId === userId) throw new BadRequest("you cannot remove yourself; leave with POST /rooms/{id}/leave", [{ field: "user_id", message: "is yourself" }]);
    const target = await this.memberRole(id, targetId);
    if (!target) throw new NotFound("member");
    if (target === "owner") throw new Forbidden("the owner cannot be removed");
    if (target === "admin" && me.role !== "owner") throw new Forbidden("only the owner can remove an admin");
    await this.db.delete(conversationMembers).where(and(eq(conversationMembers.conversationId, id), eq(conversationMembers.userId, targetId)));
    await this.chat.left(id, targetId, "removed");
    await this.chat.postSystem(id, { kind: "removed", actor_id: userId, target_id: targetId }, "removed a member");
    return this.rooms.details(userId, id);
  }

  /** Owner only: make a member admin or member again, or hand the room over (`owner`: the old owner becomes admin). */
  async setRole(userId: string, id: string, targetId: string, role: RoomRole) {
    await this.role(userId, id, "owner");
    if (targetId === userId) throw new BadRequest("you cannot change your own role; make someone else owner instead", [{ field: "user_id", message: "is yourself" }]);
    if (!(await this.memberRole(id, targetId))) throw new NotFound("member");
    const member = (u: string) => and(eq(conversationMembers.conversationId, id), eq(conversationMembers.userId, u));
    await this.db.transaction(async (tx) => {
      await tx.update(conversationMembers).set({ role }).where(member(targetId));
      if (role !== "owner") return;
      await tx.update(conversationMembers).set({ role: "admin" }).where(member(userId));
      await tx.update(conversations).set({ ownerId: targetId }).where(eq(conversations.id, id));
    });
    for (const u of role === "owner" ? [targetId, userId] : [targetId]) this.chat.forgetMembership(id, u);
    await this.chat.postSystem(id, { kind: "role_changed", actor_id: userId, target_id: targetId, role }, `made a member ${role}`);
    return this.rooms.details(userId, id);
  }

  /** Owner only. Members and history go; every member's sockets are told and stop following it. */
  async remove(userId: string, id: string) {
    await this.role(userId, id, "owner");
    const members = (await this.db.select({ id: conversationMembers.userId }).from(conversationMembers)
      .where(eq(conversationMembers.conversationId, id))).map((r) => r.id);
    await this.db.transaction(async (tx) => {
      // The row stays, marked: outbox entries still in flight for it are then dropped by the persister.
      await tx.update(conversations).set({ deletedAt: sql`now()` }).where(eq(conversations.id, id));
      await tx.update(files).set({ deletedAt: sql`now()` }).where(eq(files.conversationId, id));
      await tx.delete(messages).where(eq(messages.conversationId, id));
      await tx.delete(conversationMembers).where(eq(conversationMembers.conversationId, id));
    });
    try {
      await this.engine.chat.drop(id);
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
    }
    await Promise.all(members.map((u) => this.chat.left(id, u, "deleted")));
    return { deleted: true as const };
  }
}
