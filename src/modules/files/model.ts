import { t } from "elysia";
import type { files } from "../../db/schema";

export type FileRow = typeof files.$inferSelect;

const Status = t.Union([t.Literal("pending"), t.Literal("processing"), t.Literal("completed"), t.Literal("failed")]);
const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);

export const FilesModel = {
  upload: t.Object({
    file: t.File({ description: "the file; its type is decided from its bytes (PNG, JPEG, GIF, WebP, PDF or UTF-8 text)" }),
    conversation_id: t.Optional(t.String({ format: "uuid", description: "a conversation you belong to" })),
    to: t.Optional(t.String({ format: "uuid", description: "instead of conversation_id: a user; the direct conversation is created on first use, as by POST /chat/send" })),
  }),
  accepted: t.Object({ file_id: t.String(), status: t.Literal("pending"), conversation_id: t.String() }),
  // Not format: "uuid": a malformed id is a file that does not exist (404), not a bad request.
  params: t.Object({ id: t.String({ description: "file id" }) }),
  status: t.Object({
    file_id: t.String(),
    conversation_id: t.String(),
    uploader_id: t.String(),
    name: t.String({ description: "the original name, for display only" }),
    content_type: t.String(),
    size: t.Integer({ description: "bytes; after processing, the size of the stored (metadata-free) file" }),
    sha256: Nullable(t.String({ description: "of the stored file, once processed" })),
    status: Status,
    error: Nullable(t.String()),
    has_thumbnail: t.Boolean(),
    width: Nullable(t.Integer()),
    height: Nullable(t.Integer()),
    created_at: t.String(),
    processed_at: Nullable(t.String()),
  }),
};

export const statusView = (f: FileRow) => ({
  file_id: f.id,
  conversation_id: f.conversationId,
  uploader_id: f.uploaderId,
  name: f.originalName,
  content_type: f.contentType,
  size: f.sizeBytes,
  sha256: f.sha256 ?? null,
  status: f.status,
  error: f.error ?? null,
  has_thumbnail: f.thumbnailType !== null,
  width: f.width ?? null,
  height: f.height ?? null,
  created_at: f.createdAt.toISOString(),
  processed_at: f.processedAt ? f.processedAt.toISOString() : null,
});

/** The `content` of a `file` chat message (JSON): what a client needs to show it. */
export const messageContent = (f: FileRow) => JSON.stringify({
  file_id: f.id,
  name: f.originalName,
  content_type: f.contentType,
  size: f.sizeBytes,
  has_thumbnail: f.thumbnailType !== null,
  width: f.width ?? null,
  height: f.height ?? null,
});
