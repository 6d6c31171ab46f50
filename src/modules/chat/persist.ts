/**
 * The chat side of persistence: how a batch of outbox messages becomes rows.
 * The persister actor (actors/persister.actor.ts) moves entries and calls
 * `write`; what a conflict means is decided here. Structurally a BatchWriter.
 *
 * Policy for a message PostgreSQL refuses: a retry of a stored client_id is
 * dropped (its content is stored); a seq clash is renumbered; anything else
 * (a row that can never be written as it is, e.g. its conversation is gone)
 * goes to the dead-letter stream with the error, is counted in /metrics and
 * /ready, and `huddle outbox replay` writes it once the cause is fixed. An
 * acknowledged message is never dropped silently.
 */
import { sql } from "drizzle-orm";
import { rowsOf, type Db } from "../../db/client";
import { isRowRejected, sqlstateOf } from "../../db/errors";
import { messages } from "../../db/schema";
import type { ChatMessage, DeadLetters } from "../../engine/types";
import { log } from "../../lib/log";
import { advanceOwnRead, applyChanges, toRow } from "./repo";
import { chatMetrics } from "./metrics";

const rowsOfResult = (r: unknown) => rowsOf(r) as { last_seq: string | number }[];

/** Per (conversation, sender) of the batch, the sender's highest seq, in key order (row locks taken in a stable order). */
function ownReads(batch: ChatMessage[]) {
  const top = new Map<string, { conversation_id: string; user_id: string; seq: number }>();
  for (const m of batch) {
    const key = `${m.conversation_id}:${m.sender_id}`;
    if ((top.get(key)?.seq ?? 0) < m.seq) top.set(key, { conversation_id: m.conversation_id, user_id: m.sender_id, seq: m.seq });
  }
  return [...top.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
}

export type ReplayOutcome = { stored: number; kept: number };

export class MessageWriter {
  constructor(private readonly db: Db, private readonly deadLetters: DeadLetters) {}

  /**
   * Writes dead letters again (after the cause was fixed): each one that is
   * stored now, or resolved as a retry or a renumbered seq, leaves the stream;
   * one PostgreSQL still refuses stays, with its new error.
   */
  async replay(batchSize = 100): Promise<ReplayOutcome> {
    let stored = 0;
    const stillRefused = new Set<string>();
    for (;;) {
      const letters = (await this.deadLetters.list(batchSize + stillRefused.size)).filter((l) => !stillRefused.has(l.id));
      if (letters.length === 0) return { stored, kept: stillRefused.size };
      for (const letter of letters) {
        if ((await this.writeOne(letter.message, false)) === "refused") stillRefused.add(letter.id);
        else {
          await this.deadLetters.remove([letter.id]);
          stored++;
        }
      }
    }
  }

  /** One transaction for the batch; when PostgreSQL rejects a row, the rest go one by one and the odd one is resolved. */
  async write(batch: ChatMessage[]): Promise<void> {
    try {
      await this.insert(batch);
    } catch (err) {
      if (!isRowRejected(err)) throw err;
      for (const m of batch) await this.writeOne(m, true);
    }
  }

  /** One message on its own: stored, resolved, or (refused) dead-lettered when `deadLetter`. Throws on transient errors. */
  private async writeOne(m: ChatMessage, deadLetter: boolean): Promise<"stored" | "refused"> {
    try {
      await this.insert([m]);
      return "stored";
    } catch (rowErr) {
      if (!isRowRejected(rowErr)) throw rowErr;
      return this.resolveConflict(m, rowErr, deadLetter);
    }
  }

  /**
   * A message whose seq PostgreSQL already used for another message (written
   * directly while Redis was unreachable) is kept under the next free seq:
   * losing an acknowledged message is worse than renumbering it. A message
   * whose client_id is already stored is a retry and is dropped.
   */
  private async resolveConflict(m: ChatMessage, err: unknown, deadLetter: boolean): Promise<"stored" | "refused"> {
    chatMetrics.persistConflicts.inc();
    const [byClient] = m.client_id
      ? await this.db.select({ id: messages.id }).from(messages).where(sql`conversation_id = ${m.conversation_id} and sender_id = ${m.sender_id} and client_id = ${m.client_id}`)
      : [];
    if (byClient) {
      log.warn({ message_id: m.id, kept: byClient.id }, "persister: retry of an already stored client_id dropped");
      return "stored";
    }
    const [bySeq] = await this.db.select({ id: messages.id }).from(messages).where(sql`conversation_id = ${m.conversation_id} and seq = ${m.seq}`);
    if (!bySeq) {
      const reason = `${sqlstateOf(err) ?? "error"}: ${(err as Error)?.message ?? String(err)}`.slice(0, 500);
      if (!deadLetter) return "refused";
      // Kept with its error before the outbox entry is acknowledged; if Redis cannot take it, the batch is retried.
      await this.deadLetters.add(m, reason);
      log.error({ message_id: m.id, conversation_id: m.conversation_id, reason }, "persister: message refused by PostgreSQL; kept in the dead-letter stream (huddle outbox replay)");
      return "refused";
    }
    await this.db.transaction(async (tx) => {
      const [conv] = await tx.execute(sql`update conversations set last_seq = greatest(last_seq, (select coalesce(max(seq), 0) from messages where conversation_id = ${m.conversation_id})) + 1
        where id = ${m.conversation_id} returning last_seq`).then(rowsOfResult);
      const renumbered = { ...m, seq: Number(conv!.last_seq) };
      await tx.insert(messages).values(toRow(renumbered));
      await applyChanges(tx, [renumbered], new Set([renumbered.id]));
      await advanceOwnRead(tx, renumbered);
      log.warn({ message_id: m.id, from_seq: m.seq, to_seq: renumbered.seq }, "persister: seq already taken in PostgreSQL; message stored under a new seq");
    });
    return "stored";
  }

  private async insert(batch: ChatMessage[]) {
    await this.db.transaction(async (tx) => {
      // Only a re-delivered id is harmless; a clash on seq or client_id must surface (see resolveConflict).
      // The batch travels as one JSON parameter: building a 500-row VALUES list through the query
      // builder cost 3-5x the whole insert (bench/RESULTS.md, persistence).
      // Rows of a deleted room are dropped: the room and its history went on purpose. The batch's
      // conversations are locked FOR SHARE (in id order) and their deleted_at read after the lock: a room
      // deletion (rooms/admin.ts: UPDATE conversations, then DELETE its messages) either commits first and
      // is seen here, or waits for this batch and then deletes its rows too. Without the lock a batch that
      // read the room as live before the deletion committed could insert rows after it.
      const ids = [...new Set(batch.map((m) => m.conversation_id))].sort();
      const written = rowsOf(await tx.execute(sql`with locked as (
          select id, deleted_at from conversations where id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid) order by id for share)
        insert into messages (id, conversation_id, seq, sender_id, receiver_id, content, message_type, client_id, timestamp, ref_id, ref_seq, system, mentions)
        select m.* from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as m(id uuid, conversation_id uuid, seq bigint, sender_id uuid,
          receiver_id uuid, content text, message_type text, client_id text, timestamp timestamptz, ref_id uuid, ref_seq bigint, system jsonb, mentions jsonb)
        where not exists (select 1 from locked d where d.id = m.conversation_id and d.deleted_at is not null)
        on conflict (id) do nothing returning id`));
      await applyChanges(tx, batch, new Set(written.map((r) => String(r.id))));
      chatMetrics.persisted.inc(written.length);
      const latest = new Map<string, ChatMessage>();
      for (const m of batch) if ((latest.get(m.conversation_id)?.seq ?? 0) < m.seq) latest.set(m.conversation_id, m);
      // One statement for every conversation of the batch: a round trip per conversation took ~40% of a batch,
      // listed in id order so concurrent persisters tend to lock rows in the same order.
      const heads = [...latest.values()].sort((a, b) => (a.conversation_id < b.conversation_id ? -1 : 1))
        .map((m) => ({ id: m.conversation_id, seq: m.seq, at: m.timestamp }));
      // In the same statement, each sender's read marker moves up to their newest message of the batch:
      // your own messages are never unread (GET /chat/conversations counts unread as last_seq - last_read_seq).
      await tx.execute(sql`with heads as (
          update conversations c set last_seq = greatest(c.last_seq, h.seq),
            last_message_at = greatest(coalesce(c.last_message_at, h.at), h.at)
          from jsonb_to_recordset(${JSON.stringify(heads)}::jsonb) as h(id uuid, seq bigint, at timestamptz)
          where c.id = h.id returning 1)
        update conversation_members m set last_read_seq = greatest(m.last_read_seq, r.seq)
        from jsonb_to_recordset(${JSON.stringify(ownReads(batch))}::jsonb) as r(conversation_id uuid, user_id uuid, seq bigint)
        where m.conversation_id = r.conversation_id and m.user_id = r.user_id`);
    });
  }
}
