/**
 * Avatars: an uploaded image goes through the file pipeline's checks (size
 * cap, type decided from the bytes, header dimensions before any decoding)
 * and its processing Worker (metadata-free decode, time limit), which makes
 * one 128 px square; only that square is stored, under a fresh storage key.
 * It is processed while the caller waits rather than queued like a chat
 * file: the answer carries the new avatar_url, and there is no conversation
 * to announce it in. That takes a Worker start plus the decode (README,
 * "Avatars", has measured times); one per user at a time.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { users } from "../../db/schema";
import { BadRequest, NotFound, PayloadTooLarge, TooManyRequests, UnsupportedMediaType } from "../../errors";
import { FileRejected, type AvatarProcessor } from "../files/processor";
import { isImage, sniff } from "../files/sniff";
import { newStoredName, type FileStorage } from "../files/storage";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** How soon a caller whose previous avatar is still being processed may try again. */
const BUSY_RETRY_MS = 2_000;

export class AvatarService {
  /** Users whose avatar is being processed on this instance: one Worker per user at a time. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly storage: FileStorage,
    private readonly process: AvatarProcessor,
    readonly maxUploadBytes: number,
  ) {}

  /** Refused before the body is read when one of the caller's avatars is still being processed. */
  checkIdle(userId: string) {
    if (this.busy.has(userId)) throw new TooManyRequests(BUSY_RETRY_MS, "your previous avatar is still being processed");
  }

  async set(userId: string, file: unknown): Promise<void> {
    if (!(file instanceof Blob)) throw new BadRequest("`file` is required: an image (PNG, JPEG, GIF or WebP)", [{ field: "file", message: "required" }]);
    if (file.size > this.maxUploadBytes) throw new PayloadTooLarge(this.maxUploadBytes, "file");
    if (file.size === 0) throw new BadRequest("the file is empty", [{ field: "file", message: "empty" }]);
    const bytes = await file.bytes();
    const kind = sniff(bytes);
    if (!kind || !isImage(kind)) throw new UnsupportedMediaType("an avatar must be a PNG, JPEG, GIF or WebP image (decided from the content, not the name)");
    this.checkIdle(userId);
    this.busy.add(userId);
    let square;
    try {
      square = await this.process(kind, bytes);
    } catch (err) {
      if (err instanceof FileRejected) throw new BadRequest(`the image cannot be used: ${err.message}`, [{ field: "file", message: err.message }]);
      throw err;
    } finally {
      this.busy.delete(userId);
    }
    const key = newStoredName();
    await this.storage.put(key, square.bytes, square.type);
    const [old] = await this.db.select({ key: users.avatarKey }).from(users).where(eq(users.id, userId));
    const updated = await this.db.update(users).set({ avatarKey: key, avatarType: square.type, avatarUpdatedAt: new Date() })
      .where(eq(users.id, userId)).returning({ id: users.id });
    if (updated.length === 0) {
      await this.storage.delete(key).catch(() => {});
      throw new NotFound("user");
    }
    if (old?.key) await this.storage.delete(old.key).catch(() => {});
  }

  async remove(userId: string): Promise<void> {
    const [old] = await this.db.select({ key: users.avatarKey }).from(users).where(eq(users.id, userId));
    await this.db.update(users).set({ avatarKey: null, avatarType: null, avatarUpdatedAt: new Date() }).where(eq(users.id, userId));
    if (old?.key) await this.storage.delete(old.key).catch(() => {});
  }

  /** The user's avatar bytes; 404 when the user has none (or does not exist). */
  async open(userId: string): Promise<{ blob: Blob | ReadableStream<Uint8Array>; contentType: string }> {
    if (!UUID.test(userId)) throw new NotFound("avatar");
    const [u] = await this.db.select({ key: users.avatarKey, type: users.avatarType }).from(users).where(eq(users.id, userId));
    if (!u?.key || !u.type) throw new NotFound("avatar");
    const blob = await this.storage.open(u.key);
    if (!blob) throw new NotFound("avatar");
    return { blob, contentType: u.type };
  }
}
