import type { users } from "../../db/schema";
import type { SelfUserT } from "../auth/model";

type UserRow = typeof users.$inferSelect;

/** Where a user's avatar is served, or null; the change time makes a new picture a new URL. */
export function avatarUrl(u: { id: string; avatarKey: string | null; avatarUpdatedAt: Date | null }): string | null {
  return u.avatarKey ? `/users/${u.id}/avatar?v=${u.avatarUpdatedAt?.getTime() ?? 0}` : null;
}

export function publicUser(u: UserRow, online?: boolean) {
  return {
    id: u.id,
    username: u.username,
    display_name: u.displayName ?? null,
    bio: u.bio ?? null,
    avatar_url: avatarUrl(u),
    created_at: u.createdAt.toISOString(),
    last_active: u.lastActive ? u.lastActive.toISOString() : null,
    ...(online === undefined ? {} : { online }),
  };
}

export function selfUser(u: UserRow): SelfUserT {
  return { ...publicUser(u), email: u.email, email_notifications: u.emailNotifications };
}
