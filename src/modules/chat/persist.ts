/**
 * The chat side of persistence: how a batch of outbox messages becomes rows.
 * The persister actor (actors/persister.actor.ts) moves entries and calls
 * `write`; what a conflict means is decided here. Structurally a BatchWriter.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { isRowRejected } from "../../db/errors";
import { messages } from "../../db/schema";
import type { ChatMessage } from "../../engine/types";
import { log } from "../../lib/log";
import { rowsOf, toRow } from "./repo";
import { chatMetrics } from "./metrics";

const rowsOfResult = (r: unknown) => rowsOf(r) as { last_seq: string | number }[];

export class MessageWriter {
  constructor(private readonly db: Db) {}

  /** One transaction for the batch; when PostgreSQL rejects a row, the rest go one by one and the odd one is resolved. */
  async write(batch: ChatMessage[]): Promise<void> {
    try {
      await this.insert(batch);
    } catch (err) {
      if (!isRowRejected(err)) throw err;
      for (const m of batch) {
        try {
          await this.insert([m]);
        } catch (rowErr) {
          if (!isRowRejected(rowErr)) throw rowErr;
          await this.resolveConflict(m, rowErr);
        }
      }
    }
  }

  /**
   * A message whose seq PostgreSQL already used for another message (written
   * directly while Redis was unreachable) is kept under the next free seq:
   * losing an acknowledged message is worse than renumbering it. A message
   * whose client_id is already stored is a retry and is dropped.
   */
  private async resolveConflict(m: ChatMessage, err: unknown) {
    chatMetrics.persistConflicts.inc();
    const [byClient] = m.client_id
      ? await this.db.select({ id: messages.id }).from(messages).where(sql`conversation_id = ${m.conversation_id} and sender_id = ${m.sender_id} and client_id = ${m.client_id}`)
      : [];
    if (byClient) {
      log.warn({ message_id: m.id, kept: byClient.id }, "persister: retry of an already stored client_id dropped");
      return;
    }
    const [bySeq] = await this.db.select({ id: messages.id }).from(messages).where(sql`conversation_id = ${m.conversation_id} and seq = ${m.seq}`);
    if (!bySeq) {
      // An acknowledged message leaves the outbox here (held back, it would block the stream): the whole
      // message goes into the error log, so it can still be recovered by hand.
      log.error({ err, message_id: m.id, conversation_id: m.conversation_id, message: m }, "persister: message rejected by PostgreSQL; dropped from outbox");
      return;
    }
    await this.db.transaction(async (tx) => {
      const [conv] = await tx.execute(sql`update conversations set last_seq = greatest(last_seq, (select coalesce(max(seq), 0) from messages where conversation_id = ${m.conversation_id})) + 1
        where id = ${m.conversation_id} returning last_seq`).then(rowsOfResult);
      const renumbered = { ...m, seq: Number(conv!.last_seq) };
      await tx.insert(messages).values(toRow(renumbered));
      log.warn({ message_id: m.id, from_seq: m.seq, to_seq: renumbered.seq }, "persister: seq already taken in PostgreSQL; message stored under a new seq");
    });
  }

  private async insert(batch: ChatMessage[]) {
    await this.db.transaction(async (tx) => {
      // Only a re-delivered id is harmless; a clash on seq or client_id must surface (see resolveConflict).
      // The batch travels as one JSON parameter: building a 500-row VALUES list through the query
      // builder cost 3-5x the whole insert (bench/RESULTS.md, persistence).
      const written = rowsOf(await tx.execute(sql`insert into messages (id, conversation_id, seq, sender_id, receiver_id, content, message_type, client_id, timestamp)
        select * from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as m(id uuid, conversation_id uuid, seq bigint, sender_id uuid,
          receiver_id uuid, content text, message_type text, client_id text, timestamp timestamptz)
        on conflict (id) do nothing returning id`));
      chatMetrics.persisted.inc(written.length);
      const latest = new Map<string, ChatMessage>();
      for (const m of batch) if ((latest.get(m.conversation_id)?.seq ?? 0) < m.seq) latest.set(m.conversation_id, m);
      // One statement for every conversation of the batch: a round trip per conversation took ~40% of a batch,
      // listed in id order so concurrent persisters tend to lock rows in the same order.
      const heads = [...latest.values()].sort((a, b) => (a.conversation_id < b.conversation_id ? -1 : 1))
        .map((m) => ({ id: m.conversation_id, seq: m.seq, at: m.timestamp }));
      await tx.execute(sql`update conversations c set last_seq = greatest(c.last_seq, h.seq),
          last_message_at = greatest(coalesce(c.last_message_at, h.at), h.at)
        from jsonb_to_recordset(${JSON.stringify(heads)}::jsonb) as h(id uuid, seq bigint, at timestamptz)
        where c.id = h.id`);
    });
  }
}
