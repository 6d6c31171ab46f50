/**
 * Serves the browser client: the page at `/` and its versioned assets. The
 * assets are bundled at build time by a macro (see bundle.macro.ts) and live
 * in the binary as strings; ETags are computed at start, each gzip copy at its
 * first gzip request (about 20 ms for all of them: not on every start's path).
 */
import { Elysia, type AnyElysia } from "elysia";
import { webBundle } from "./bundle.macro" with { type: "macro" };

type Asset = { body: string; gzip?: Uint8Array<ArrayBuffer>; type: string; etag: string; cache: string };

const IMMUTABLE = "public, max-age=31536000, immutable";

function asset(body: string, type: string, cache: string): Asset {
  return { body, type, etag: `"${Bun.hash(body).toString(36)}"`, cache };
}

function serve(a: Asset, request: Request): Response {
  const headers: Record<string, string> = { "content-type": a.type, "cache-control": a.cache, etag: a.etag, vary: "accept-encoding" };
  if (request.headers.get("if-none-match") === a.etag) return new Response(null, { status: 304, headers });
  if (/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) {
    a.gzip ??= Bun.gzipSync(a.body) as Uint8Array<ArrayBuffer>;
    return new Response(a.gzip, { headers: { ...headers, "content-encoding": "gzip" } });
  }
  return new Response(a.body, { headers });
}

export function webModule(): AnyElysia {
  const b = webBundle();
  // The page itself is revalidated on every load so a new binary's assets are picked up at once.
  const page = asset(b.html, "text/html; charset=utf-8", "no-cache");
  const assets: Record<string, Asset> = {
    "app.js": asset(b.js, "text/javascript; charset=utf-8", IMMUTABLE),
    "app.css": asset(b.css, "text/css; charset=utf-8", IMMUTABLE),
    "icon.svg": asset(b.icon, "image/svg+xml", IMMUTABLE),
  };
  // Browsers ask for /favicon.ico on pages that name no icon (Swagger UI's page): the same SVG, under a
  // name that is not versioned, so it is revalidated daily instead of cached for good.
  const favicon = asset(b.icon, "image/svg+xml", "public, max-age=86400");
  const hide = { detail: { hide: true } };
  return new Elysia({ name: "web" })
    .get("/", ({ request }) => serve(page, request), hide)
    .get("/favicon.ico", ({ request }) => serve(favicon, request), hide)
    .get("/assets/:name", ({ params, request, set }) => {
      const a = Object.hasOwn(assets, params.name) ? assets[params.name] : undefined;
      if (!a) {
        set.status = 404;
        return { error: { code: "not_found", message: "asset not found" } };
      }
      return serve(a, request);
    }, hide);
}
