/**
 * CORS from the CORS_ORIGINS allow-list (bearer tokens, no cookies, so no credentials mode) and
 * security headers on every response. The docs page needs an inline script
 * (Swagger UI's boot call), so only /swagger gets 'unsafe-inline'.
 */
import { Elysia } from "elysia";
import { parseQuery } from "elysia/parse-query";
import { PayloadTooLarge } from "../errors";
import { bodyTooLarge } from "./metrics";

const CSP_APP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const CSP_DOCS = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Paths whose body is a file, read by their own capped multipart reader (MAX_UPLOAD_BYTES, not MAX_BODY_BYTES). */
const UPLOAD_PATHS = new Set(["/files/upload", "/users/me/avatar"]);

export const headersPlugin = (opts: { corsOrigins: string; maxBodyBytes: number; maxUploadBytes?: number }) => {
  const allowed = new Set(opts.corsOrigins.split(",").map((s) => s.trim()).filter(Boolean));
  return new Elysia({ name: "headers" })
    .onRequest(({ request, set }) => {
      const url = new URL(request.url);
      const limit = UPLOAD_PATHS.has(url.pathname) ? (opts.maxUploadBytes ?? opts.maxBodyBytes) : opts.maxBodyBytes;
      const h = set.headers;
      h["x-content-type-options"] = "nosniff";
      h["referrer-policy"] = "no-referrer";
      h["x-frame-options"] = "DENY";
      h["content-security-policy"] = url.pathname.startsWith("/swagger") ? CSP_DOCS : CSP_APP;
      const origin = request.headers.get("origin");
      if (origin && (allowed.has(origin) || allowed.has("*"))) {
        h["access-control-allow-origin"] = origin;
        h["vary"] = "Origin";
        if (request.method === "OPTIONS") {
          h["access-control-allow-methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
          h["access-control-allow-headers"] = request.headers.get("access-control-request-headers") ?? "authorization, content-type";
          h["access-control-max-age"] = "600";
          return new Response(null, { status: 204, headers: h as Record<string, string> });
        }
      }
      // After the headers above, so a browser on an allowed origin can read the 413 too.
      const len = Number(request.headers.get("content-length") ?? 0);
      if (len > limit) {
        bodyTooLarge.inc();
        throw new PayloadTooLarge(limit);
      }
    })
    // A chunked body has no Content-Length for the check above: read it with the same cap before
    // parsing (uploads have their own capped reader). Other bodies go to Elysia's parsers.
    .onParse({ as: "global" }, async ({ request }) => {
      if (!/chunked/i.test(request.headers.get("transfer-encoding") ?? "") || !request.body || UPLOAD_PATHS.has(new URL(request.url).pathname)) return;
      const contentType = request.headers.get("content-type") ?? "";
      const type = contentType.split(";")[0]!.trim().toLowerCase();
      if (!PARSED_TYPES.has(type)) return;
      const bytes = await readCapped(request.body, opts.maxBodyBytes);
      const text = () => new TextDecoder().decode(bytes);
      if (type === "application/json") return JSON.parse(text());
      if (type === "application/x-www-form-urlencoded") return parseQuery(text());
      if (type === "text/plain") return text();
      if (type === "application/octet-stream") return bytes.buffer;
      return Object.fromEntries(await new Response(bytes, { headers: { "content-type": contentType } }).formData());
    });
};

const PARSED_TYPES = new Set(["application/json", "application/x-www-form-urlencoded", "text/plain", "application/octet-stream", "multipart/form-data"]);

async function readCapped(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      bodyTooLarge.inc();
      throw new PayloadTooLarge(limit);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
