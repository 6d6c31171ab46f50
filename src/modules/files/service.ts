/**
 * Uploads and reads of files. An upload is checked (membership, size, type
 * from its bytes, the uploader's open uploads), stored under a generated
 * name, recorded as a `files` row (pending) and queued on `files:queue`; the
 * file worker does the rest.
 * Every read checks membership of the file's conversation and answers 404
 * otherwise, as for conversations themselves.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { files } from "../../db/schema";
import { BadRequest, NotFound, PayloadTooLarge, ServiceUnavailable, TooManyRequests, UnsupportedMediaType } from "../../errors";
import { rateLimited } from "../../plugins/metrics";
import { EngineUnavailableError } from "../../engine/errors";
import type { Engine } from "../../engine/types";
import type { ChatService } from "../chat/service";
import { FILES_QUEUE } from "./jobs";
import { statusView, type FileRow } from "./model";
import { CONTENT_TYPES, sniff } from "./sniff";
import { newStoredName, thumbnailKey, type FileStorage } from "./storage";
import { lockUploader, openUploads } from "./turns";

/** A processing job takes seconds: this is when a refused uploader may try again. */
const PENDING_RETRY_MS = 5_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALLOWED = "PNG, JPEG, GIF, WebP, PDF or plain UTF-8 text";

/** The client's name for display only: no path, no control or bidi-override characters, at most 255 characters. */
export function displayName(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? "";
  const clean = base.normalize("NFC").replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "").trim();
  return Array.from(clean || "file").slice(0, 255).join("");
}

export class FilesService {
  constructor(
    private readonly db: Db,
    private readonly engine: Engine,
    private readonly storage: FileStorage,
    private readonly chat: ChatService,
    readonly maxUploadBytes: number,
    /** MAX_PENDING_UPLOADS: one account's uploads waiting or being processed at once. */
    private readonly maxPending: number,
  ) {}

  /** 429 when the user already has `maxPending` uploads waiting or being processed. */
  async checkPending(userId: string, db: Db = this.db): Promise<void> {
    if ((await openUploads(db, userId)) < this.maxPending) return;
    rateLimited.inc({ scope: "pending-uploads" });
    throw new TooManyRequests(PENDING_RETRY_MS, `uploads waiting to be processed (at most ${this.maxPending} at once)`);
  }

  /** `to` (a user) opens the direct conversation if needed, so a file can be the first message of one. */
  async upload(userId: string, target: { conversation_id?: string; to?: string }, file: File): Promise<{ file_id: string; status: "pending"; conversation_id: string }> {
    // A non-member learns nothing about limits (404 first); a new direct conversation waits until the file passed.
    const member = target.to ? null : await this.chat.resolveTarget(userId, target);
    if (file.size > this.maxUploadBytes) throw new PayloadTooLarge(this.maxUploadBytes, "file");
    if (file.size === 0) throw new BadRequest("the file is empty", [{ field: "file", message: "empty" }]);
    const bytes = await file.bytes();
    const kind = sniff(bytes);
    if (!kind) throw new UnsupportedMediaType(`unsupported file type: only ${ALLOWED} are accepted (decided from the content, not the name)`);
    const { conversationId } = member ?? (await this.chat.resolveTarget(userId, target));
    const id = Bun.randomUUIDv7();
    const storedName = newStoredName();
    await this.storage.put(storedName, bytes, CONTENT_TYPES[kind]);
    try {
      await this.db.transaction(async (tx) => {
        // Checked again under the uploader's lock (the route checked before reading the body): parallel uploads cannot overshoot.
        await lockUploader(tx, userId);
        await this.checkPending(userId, tx);
        await tx.insert(files).values({
          id, uploaderId: userId, conversationId, originalName: displayName(file.name ?? ""), storedName,
          contentType: CONTENT_TYPES[kind], sizeBytes: bytes.length, status: "pending",
        });
      });
      await this.engine.queue(FILES_QUEUE).push(id, { conversation_id: conversationId });
    } catch (err) {
      // Nothing half-accepted stays behind: no row without a job, no bytes without a row.
      await this.db.delete(files).where(eq(files.id, id)).catch(() => {});
      await this.storage.delete(storedName).catch(() => {});
      if (err instanceof EngineUnavailableError) throw new ServiceUnavailable("file processing is unavailable (Redis is down); try again shortly");
      throw err;
    }
    return { file_id: id, status: "pending", conversation_id: conversationId };
  }

  /** The file's row if the user belongs to its conversation; 404 for everything else, malformed ids included. */
  async get(userId: string, id: string): Promise<FileRow> {
    if (!UUID.test(id)) throw new NotFound("file");
    const [row] = await this.db.select().from(files).where(eq(files.id, id));
    if (!row) throw new NotFound("file");
    try {
      await this.chat.requireMember(row.conversationId, userId);
    } catch (err) {
      throw err instanceof NotFound ? new NotFound("file") : err;
    }
    return row;
  }

  async status(userId: string, id: string) {
    return statusView(await this.get(userId, id));
  }

  /** The processed file (or its thumbnail) to stream; only completed files are served. */
  async open(userId: string, id: string, which: "file" | "thumbnail"): Promise<{ row: FileRow; blob: Blob | ReadableStream<Uint8Array>; contentType: string }> {
    const row = await this.get(userId, id);
    // The message carrying it was deleted: the attachment went with it.
    if (row.deletedAt) throw new NotFound("file");
    if (row.status !== "completed") throw new NotFound(which === "file" ? "processed file" : "thumbnail");
    const contentType = which === "file" ? row.contentType : row.thumbnailType;
    if (!contentType) throw new NotFound("thumbnail");
    const blob = await this.storage.open(which === "file" ? row.storedName : thumbnailKey(row.storedName));
    if (!blob) throw new NotFound(which);
    return { row, blob, contentType };
  }
}
