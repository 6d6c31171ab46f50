/**
 * OpenAPI document at /swagger/json and Swagger UI at /swagger. The UI's
 * script and stylesheet come from swagger-ui-dist embedded in the binary, so
 * the docs work with no internet. Authorize logs in through /auth/token.
 */
import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
// @ts-ignore -- a plain .js asset imported as a file path; it has no type declarations.
import bundlePath from "../../node_modules/swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import cssPath from "../../node_modules/swagger-ui-dist/swagger-ui.css" with { type: "file" };

const ASSETS: Record<string, { path: string; type: string }> = {
  "swagger-ui-bundle.js": { path: bundlePath, type: "text/javascript; charset=utf-8" },
  "swagger-ui.css": { path: cssPath, type: "text/css; charset=utf-8" },
};

export const openapiPlugin = (version: string) =>
  new Elysia({ name: "openapi" })
    .use(openapi({
      path: "/swagger",
      specPath: "/swagger/json",
      provider: "swagger-ui",
      swagger: {
        cdn: "/swagger/assets/swagger-ui-bundle.js",
        theme: "/swagger/assets/swagger-ui.css",
        persistAuthorization: true,
      },
      exclude: { paths: [/^\/swagger/, "/", /^\/assets\//] },
      documentation: {
        info: {
          title: "Huddle API",
          version,
          // No quotes or angle brackets: the plugin writes this into an HTML attribute unescaped.
          description: "Chat (direct messages and rooms) and a SQL practice judge. Every error has the shape error: {code, message, details?}. Authorize with a username and password (OAuth2 password flow via /auth/token).",
        },
        tags: [
          { name: "auth" }, { name: "users" }, { name: "chat" }, { name: "rooms" },
          { name: "problems" }, { name: "files" }, { name: "ops" },
        ],
        components: {
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
    }, { detail: { hide: true } });
