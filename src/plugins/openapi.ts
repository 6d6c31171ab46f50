/**
 * OpenAPI document at /swagger/json and Swagger UI at /swagger. The UI's
 * script and stylesheet come from swagger-ui-dist embedded in the binary, so
 * the docs work with no internet. Authorize logs in through /auth/token.
 *
 * The generated document is finished in an after-handle hook (see `finish`):
 * the generator cannot know three things about this app, and its output must
 * validate as OpenAPI 3.1 (test/e2e/swagger.test.ts checks with swagger-parser).
 */
import { Elysia, type AnyElysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
// After the line above: it replaces the uuid/email checks with slow ones, which this puts back.
import "./formats";
// @ts-ignore -- a plain .js asset imported as a file path; it has no type declarations.
import bundlePath from "../../node_modules/swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import cssPath from "../../node_modules/swagger-ui-dist/swagger-ui.css" with { type: "file" };
import icon16Path from "../../node_modules/swagger-ui-dist/favicon-16x16.png" with { type: "file" };
import icon32Path from "../../node_modules/swagger-ui-dist/favicon-32x32.png" with { type: "file" };

const ASSETS: Record<string, { path: string; type: string }> = {
  "swagger-ui-bundle.js": { path: bundlePath, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { path: cssPath, type: "text/css; charset=utf-8" },
  "favicon-16x16.png": { path: icon16Path, type: "image/png" },
  "favicon-32x32.png": { path: icon32Path, type: "image/png" },
};

const SPEC_PATH = "/swagger/json";
type SwaggerOptions = NonNullable<NonNullable<Parameters<typeof openapi>[0]>["swagger"]>;

type Operation = Record<string, unknown> & { requestBody?: { content?: Record<string, unknown> } };
type Doc = { paths: Record<string, Record<string, Operation>> };
type Route = { method: string; path: string; hooks?: { body?: unknown } };

/** Where each route's body schema is, by document path and lower-case method. */
function bodySchemas(routes: Route[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const r of routes) {
    if (r.hooks?.body && typeof r.hooks.body === "object") out.set(`${r.method.toLowerCase()} ${r.path.replace(/:([^/]+)/g, "{$1}")}`, r.hooks.body);
  }
  return out;
}

/**
 * - A WebSocket route comes out as a `ws` operation, which OpenAPI does not
 *   have: it becomes the GET of the handshake, marked `x-websocket`.
 * - The global parse hook (headers plugin: capped chunked bodies) is a
 *   function, so the generator lists no media type for JSON bodies and Swagger
 *   UI shows no body editor: the route's schema goes back in as JSON.
 * The plugin caches its document, so each one is finished once.
 */
function finisher(routes: () => Route[]) {
  const done = new WeakMap<object, Doc>();
  return (doc: Doc): Doc => {
    const hit = done.get(doc);
    if (hit) return hit;
    const bodies = bodySchemas(routes());
    const paths: Doc["paths"] = {};
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      const next: Record<string, Operation> = {};
      for (const [method, op] of Object.entries(item)) {
        if (method === "ws") {
          next.get = {
            ...op,
            description: `${op.description ?? ""} A WebSocket: open it with a WebSocket client (GET with Upgrade: websocket); Swagger UI cannot.`.trim(),
            "x-websocket": true,
            responses: { 101: { description: "Switching Protocols: the socket is open" }, 401: { description: "missing or invalid token" } },
          };
          continue;
        }
        const schema = bodies.get(`${method} ${path}`);
        if (op.requestBody && Object.keys(op.requestBody.content ?? {}).length === 0 && schema) {
          next[method] = { ...op, requestBody: { ...op.requestBody, content: { "application/json": { schema: JSON.parse(JSON.stringify(schema)) } } } };
        } else next[method] = op;
      }
      paths[path] = next;
    }
    const finished = { ...doc, paths };
    done.set(doc, finished);
    return finished;
  };
}

/** A function plugin: it needs the whole app's routes (bodies are declared by the feature modules). */
export const openapiPlugin = (version: string) => (app: AnyElysia) => {
  const finish = finisher(() => app.routes as Route[]);
  return app.use(new Elysia({ name: "openapi" })
    .onAfterHandle(({ path, response }) => (path === SPEC_PATH && response && typeof response === "object" ? finish(response as Doc) : undefined))
    .use(openapi({
      path: "/swagger",
      specPath: SPEC_PATH,
      provider: "swagger-ui",
      // `url` is missing from the option type, but what is given here wins over the plugin's default, a
      // relative "swagger/json" that /swagger/ (trailing slash) resolves to /swagger/swagger/json.
      swagger: {
        url: SPEC_PATH,
        cdn: "/swagger/assets/swagger-ui-bundle.js",
        theme: "/swagger/assets/swagger-ui.css",
        persistAuthorization: true,
      } as SwaggerOptions,
      exclude: { paths: [/^\/swagger/, "/", /^\/assets\//, "/favicon.ico"] },
      documentation: {
        info: {
          title: "Huddle API",
          version,
          // No quotes or angle brackets: the plugin writes this into an HTML attribute unescaped.
          description: "Chat (direct messages and rooms) and a SQL practice judge. Every error has the shape error: {code, message, details?}. Authorize with a username and password (OAuth2 password flow via /auth/token), or paste an access token (bearerAuth).",
        },
        tags: [
          { name: "auth" }, { name: "users" }, { name: "chat" }, { name: "rooms" },
          { name: "problems" }, { name: "files" }, { name: "ops" },
        ],
        components: {
          // Operations accept either (see plugins/auth.ts): the token is the same JWT however it was obtained.
          securitySchemes: {
            bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
            oauth2: { type: "oauth2", flows: { password: { tokenUrl: "/auth/token", scopes: {} } } },
          },
        },
      },
    }))
    .get("/swagger/assets/:file", ({ params, set }) => {
      const asset = Object.hasOwn(ASSETS, params.file) ? ASSETS[params.file] : undefined;
      if (!asset) {
        set.status = 404;
        return { error: { code: "not_found", message: "no such asset" } };
      }
      return new Response(Bun.file(asset.path), {
        headers: { "content-type": asset.type, "cache-control": "public, max-age=86400" },
      });
    }, { detail: { hide: true } }));
};
