/**
 * `@username` in a room message: which members it names. A name counts when
 * `@` starts a word (not inside an email address like a@b.example) and the
 * name follows the username rules (3-32 of letters, digits, _ . -); a
 * trailing dot or dash is punctuation ("thanks @bob."). Only members of the
 * room can be mentioned, and never the sender; case does not matter.
 */
import { sql } from "drizzle-orm";
import { rowsOf, type Db } from "../../db/client";

const MENTION = /(?<![\w.@+-])@([A-Za-z0-9_.-]{3,32})/g;
/** A message naming more people than this is a broadcast, not a mention of each: the first ones count. */
export const MAX_MENTIONS = 20;

/** The lower-cased usernames named in `content`, in order, without repeats. */
export function mentionedNames(content: string): string[] {
  const names = new Set<string>();
  for (const m of content.matchAll(MENTION)) {
    const name = m[1]!.replace(/[.-]+$/, "").toLowerCase();
    if (name.length >= 3) names.add(name);
    if (names.size >= MAX_MENTIONS) break;
  }
  return [...names];
}

/** Ids of the conversation's members named in `content`, the sender excluded; [] when none (no query then). */
export async function mentionedMembers(db: Db, conversationId: string, senderId: string, content: string): Promise<string[]> {
  const names = mentionedNames(content);
  if (names.length === 0) return [];
  const rows = rowsOf(await db.execute(sql`
    select u.id from conversation_members m join users u on u.id = m.user_id
    where m.conversation_id = ${conversationId} and u.id <> ${senderId}
      and lower(u.username) in (select jsonb_array_elements_text(${JSON.stringify(names)}::jsonb))
    order by u.id`));
  return rows.map((r) => String(r.id));
}
