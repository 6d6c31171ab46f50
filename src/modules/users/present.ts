import type { users } from "../../db/schema";
import type { SelfUserT } from "../auth/model";

type UserRow = typeof users.$inferSelect;

export function publicUser(u: UserRow, online?: boolean) {
  return {
    id: u.id,
    username: u.username,
    display_name: u.displayName ?? null,
    bio: u.bio ?? null,
    created_at: u.createdAt.toISOString(),
    last_active: u.lastActive ? u.lastActive.toISOString() : null,
    ...(online === undefined ? {} : { online }),
  };
}

export function selfUser(u: UserRow): SelfUserT {
  return { ...publicUser(u), email: u.email };
}
