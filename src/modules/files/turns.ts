/**
 * Fair turns for the file workers, and the per-user cap on open uploads.
 *
 * The files queue is FIFO, so one account uploading a batch would otherwise
 * have the workers, and everyone else's thumbnails, wait for all of it. A
 * claimed job therefore waits its turn (goes to the back of the queue) while
 * - another file of the same uploader is being processed: one account holds
 *   at most one worker, whatever FILE_WORKER_CONCURRENCY is; or
 * - another uploader, served less recently, has an upload that has waited
 *   since before this uploader's last file finished and could run now: round
 *   robin between uploaders, also with a single worker. "Less recently"
 *   (ties broken by id) orders any two uploaders, so two never wait for each
 *   other.
 * Uploads older than RECENT are not waited for, and a job waits at most
 * MAX_WAIT_MS in all: a row stranded by a lost job slows others for a while
 * but never stalls them. Both checks run under a per-uploader advisory lock,
 * so two workers cannot start two files of one account at the same instant.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { rowsOf, type Db } from "../../db/client";
import { files } from "../../db/schema";
import type { FileRow } from "./model";

export const OPEN = ["pending", "processing"] as const;
/** The longest a job defers to others before it runs regardless. */
export const MAX_WAIT_MS = 10 * 60_000;
const RECENT = sql`interval '10 minutes'`;

/** Serialises, per uploader, the cap check with the insert and the turn check with the start. */
export async function lockUploader(tx: Db, uploaderId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`files:${uploaderId}`}, 0))`);
}

/** Files of the user waiting or being processed (what MAX_PENDING_UPLOADS caps). */
export async function openUploads(db: Db, uploaderId: string): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(files)
    .where(and(eq(files.uploaderId, uploaderId), inArray(files.status, OPEN)));
  return Number(row?.n ?? 0);
}

async function mustWait(tx: Db, row: FileRow): Promise<boolean> {
  const [r] = rowsOf(await tx.execute(sql`
    with me as (select max(processed_at) as served from files where uploader_id = ${row.uploaderId})
    select
      exists(select 1 from files o where o.uploader_id = ${row.uploaderId} and o.status = 'processing' and o.id <> ${row.id}) as busy,
      exists(select 1 from files o, me
        where o.status = 'pending' and o.uploader_id <> ${row.uploaderId}
          and o.created_at < me.served and o.created_at > now() - ${RECENT}
          and not exists(select 1 from files q where q.uploader_id = o.uploader_id and q.status = 'processing')
          and (coalesce((select max(s.processed_at) from files s where s.uploader_id = o.uploader_id), '-infinity'::timestamptz), o.uploader_id)
            < (me.served, ${row.uploaderId}::uuid)) as behind`));
  return Boolean(r?.busy) || Boolean(r?.behind);
}

export type Turn = { kind: "run"; row: FileRow } | { kind: "wait" } | { kind: "done" };

/**
 * Starts processing the file if it is its turn (status -> processing); `wait` when it should go
 * to the back of the queue; `done` when it is terminal already (or unknown). `fair: false` skips
 * the turn check (the job has waited MAX_WAIT_MS).
 */
export function takeTurn(db: Db, fileId: string, fair: boolean): Promise<Turn> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(files).where(and(eq(files.id, fileId), inArray(files.status, OPEN)));
    if (!row) return { kind: "done" as const };
    await lockUploader(tx, row.uploaderId);
    if (fair && (await mustWait(tx, row))) return { kind: "wait" as const };
    const [started] = await tx.update(files).set({ status: "processing" })
      .where(and(eq(files.id, fileId), inArray(files.status, OPEN))).returning();
    return started ? { kind: "run" as const, row: started } : { kind: "done" as const };
  });
}
