import { Elysia } from "elysia";
import { authPlugin, bearerFrom } from "../../plugins/auth";
import type { RateLimit } from "../../plugins/rate-limit";
import { Unauthorized } from "../../errors";
import type { TokenService } from "../auth/tokens";
import { FilesModel } from "./model";
import type { FilesService } from "./service";
import { isImage, kindOf } from "./sniff";
import { readMultipartForm } from "./multipart";

export { MULTIPART_OVERHEAD } from "./multipart";

async function readMultipart(request: Request, maxFileBytes: number): Promise<Record<string, unknown>> {
  const form = await readMultipartForm(request, maxFileBytes, "send the file as multipart/form-data with fields `file` and `conversation_id` (or `to`)");
  return { file: form.get("file") ?? undefined, conversation_id: form.get("conversation_id") ?? undefined, to: form.get("to") ?? undefined };
}

const RFC5987_EXTRA = /['()*]/g;

/** `filename` (ASCII fallback, no quotes or controls) plus RFC 5987 `filename*` for the real name. */
export function contentDisposition(disposition: "inline" | "attachment", name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const encoded = encodeURIComponent(name).replace(RFC5987_EXTRA, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function serve(blob: Blob | ReadableStream<Uint8Array>, contentType: string, disposition: string) {
  return new Response(blob, {
    headers: {
      "content-type": contentType === "text/plain" ? "text/plain; charset=utf-8" : contentType,
      "content-disposition": disposition,
      "x-content-type-options": "nosniff",
      // Even if a browser renders it, a stored file gets no script, no plugin, no origin.
      "content-security-policy": "default-src 'none'; sandbox",
      "cross-origin-resource-policy": "same-origin",
      "cache-control": "private, max-age=3600",
    },
  });
}

const BYTES = (description: string) => ({
  200: { description, content: { "application/octet-stream": { schema: { type: "string" as const, format: "binary" } } } },
  404: { description: "no such file, not a member, or not processed (yet)" },
});

export const filesModule = (files: FilesService, tokens: TokenService, limit: RateLimit) =>
  new Elysia({ prefix: "/files", tags: ["files"] })
    .use(authPlugin(tokens))
    .post("/upload", async ({ userId, body, set }) => {
      const accepted = await files.upload(userId, { conversation_id: body.conversation_id, to: body.to }, body.file);
      set.status = 202;
      return accepted;
    }, {
      auth: true,
      parse: [
        // Authenticate, rate-limit and check the open-upload cap before reading a byte of the body (the auth macro checks the token again).
        async ({ request }) => {
          const token = bearerFrom(request.headers.get("authorization"));
          if (!token) throw new Unauthorized("missing bearer token");
          const userId = await tokens.verifyAccess(token);
          await limit("upload", userId);
          await files.checkPending(userId);
          return readMultipart(request, files.maxUploadBytes);
        },
        // Never reached (the parser above always answers); it makes the OpenAPI document say multipart/form-data.
        "multipart/form-data",
      ],
      body: FilesModel.upload,
      response: { 202: FilesModel.accepted },
      detail: { summary: "Upload a file into a conversation (or a first direct message with `to`); processed in the background, then posted as a `file` message" },
    })
    .get("/:id/status", ({ userId, params }) => files.status(userId, params.id), {
      auth: true, params: FilesModel.params, response: { 200: FilesModel.status },
      detail: { summary: "A file's processing status (pending, processing, completed, failed) and details" },
    })
    .get("/:id", async ({ userId, params }) => {
      const { row, blob, contentType } = await files.open(userId, params.id, "file");
      const kind = kindOf(contentType);
      return serve(blob, contentType, contentDisposition(kind && isImage(kind) ? "inline" : "attachment", row.originalName));
    }, {
      auth: true, params: FilesModel.params,
      detail: { summary: "Download a processed file (members of its conversation only)", responses: BYTES("the stored file, metadata removed") },
    })
    .get("/:id/thumbnail", async ({ userId, params }) => {
      const { row, blob, contentType } = await files.open(userId, params.id, "thumbnail");
      return serve(blob, contentType, contentDisposition("inline", `thumbnail-${row.originalName}`));
    }, {
      auth: true, params: FilesModel.params,
      detail: { summary: "An image's thumbnail, at most 320 px on the long side", responses: BYTES("PNG, or JPEG for JPEG files") },
    });
