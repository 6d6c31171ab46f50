/**
 * Full-text search over what the caller may read: text messages of their
 * conversations, above their cleared mark, not deleted (a delete blanks the
 * content, which empties its search vector). PostgreSQL only: a message still
 * in the outbox (not yet persisted, normally within ~100 ms) shows up a moment
 * later. Newest first; `before` (a message id, UUIDv7 so time-ordered) pages.
 */
import { sql } from "drizzle-orm";
import { rowsOf, type Db } from "../../db/client";
import { BadRequest } from "../../errors";
import type { RateLimit } from "../../plugins/rate-limit";
import type { ChatMessage } from "../../engine/types";

type Row = {
  id: string; conversation_id: string; seq: string | number; sender_id: string; receiver_id: string | null; content: string;
  client_id: string | null; timestamp: Date | string; edited_at: Date | string | null; headline: string;
  kind: "direct" | "room"; name: string | null;
};

export type SearchInput = { q: string; conversation_id?: string; limit?: number; before?: string };

export class ChatSearch {
  constructor(private readonly db: Db, private readonly limit: RateLimit) {}

  async search(userId: string, input: SearchInput) {
    const q = input.q.trim();
    if (!q) throw new BadRequest("q must not be blank", [{ field: "q", message: "blank" }]);
    await this.limit("search", userId);
    const limit = input.limit ?? 20;
    const where = [
      input.conversation_id ? sql`and x.conversation_id = ${input.conversation_id}` : sql``,
      input.before ? sql`and x.id < ${input.before}` : sql``,
    ];
    // The content is HTML-escaped before ts_headline (which would drop anything that looks like a tag)
    // and marked with control characters (stripped from the content first) that become <mark> tags:
    // the snippet is safe HTML for element content, whatever was written.
    const rows = rowsOf(await this.db.execute(sql`
      with query as (select websearch_to_tsquery('simple'::regconfig, ${q}) as tsq)
      select x.id, x.conversation_id, x.seq, x.sender_id, x.receiver_id, x.content, x.client_id, x.timestamp, x.edited_at,
        c.kind, c.name,
        ts_headline('simple'::regconfig,
          replace(replace(replace(translate(x.content, chr(1) || chr(2), ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), query.tsq,
          'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxWords=30, MinWords=8, MaxFragments=2') as headline
      from query, messages x
      join conversation_members m on m.conversation_id = x.conversation_id and m.user_id = ${userId}
      join conversations c on c.id = x.conversation_id
      where x.search @@ query.tsq and x.seq > m.cleared_seq and x.deleted_at is null ${where[0]} ${where[1]}
      order by x.id desc
      limit ${limit + 1}`)) as Row[];
    const page = rows.slice(0, limit);
    return {
      results: page.map((r) => ({
        conversation_id: r.conversation_id,
        conversation_kind: r.kind,
        conversation_name: r.name,
        message: message(r),
        snippet: r.headline.replaceAll("\u0001", "<mark>").replaceAll("\u0002", "</mark>"),
      })),
      next_before: rows.length > limit ? page.at(-1)!.id : null,
    };
  }
}

function message(r: Row): ChatMessage {
  const m: ChatMessage = {
    id: r.id, conversation_id: r.conversation_id, seq: Number(r.seq), sender_id: r.sender_id, receiver_id: r.receiver_id,
    content: r.content, message_type: "text", client_id: r.client_id, timestamp: new Date(r.timestamp).toISOString(),
  };
  if (r.edited_at) Object.assign(m, { is_edited: true, edited_at: new Date(r.edited_at).toISOString() });
  return m;
}
