/**
 * The API docs: the document validates as OpenAPI (swagger-parser) and names
 * DESIGN's paths; Swagger UI works offline, at /swagger and /swagger/, with
 * no 404 (favicons included), and its Authorize button (OAuth2 password flow)
 * gives a token the operations then send.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { OpenAPI } from "openapi-types";
import type { Browser, Page } from "playwright-core";
import { buildTestRuntime, type TestRuntime } from "../helpers/runtime";
import { registerUser } from "../helpers/app";
import { chromiumAvailable, launchChromium } from "../helpers/browser";

const haveChromium = chromiumAvailable("the Swagger UI test is");

let rt: TestRuntime;
beforeAll(async () => {
  rt = await buildTestRuntime("pglite", { listen: true });
}, 30_000);
afterAll(async () => {
  await rt?.close();
});

describe("the OpenAPI document", () => {
  // Loosely typed: the test looks at what the generator wrote, extensions included.
  let doc: { paths: Record<string, Record<string, any>> };
  beforeAll(async () => {
    doc = (await (await fetch(`${rt.base}/swagger/json`)).json()) as typeof doc;
  });

  test("validates with swagger-parser", async () => {
    // validate() dereferences in place: give it a copy.
    await SwaggerParser.validate(structuredClone(doc) as unknown as OpenAPI.Document);
  });

  test("names the paths as DESIGN does: no trailing slashes", () => {
    for (const p of ["/users", "/rooms", "/problems"]) expect(doc.paths[p]).toBeDefined();
    expect(Object.keys(doc.paths).filter((p) => p.length > 1 && p.endsWith("/"))).toEqual([]);
  });

  test("every protected operation accepts the Authorize button's token as well as a pasted one", () => {
    const me = doc.paths["/users/me"]!.get;
    expect(me.security).toEqual(expect.arrayContaining([{ bearerAuth: [] }, { oauth2: [] }]));
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const op of Object.values(item) as { security?: unknown }[]) {
        if (op.security) expect(`${path}: ${JSON.stringify(op.security)}`).toContain('{"oauth2":[]}');
      }
    }
  });

  test("the socket is a documented GET handshake, join and leave take no body, JSON bodies have a schema", () => {
    const ws = doc.paths["/chat/subscribe"]!;
    expect(Object.keys(ws)).toEqual(["get"]);
    expect(ws.get["x-websocket"]).toBe(true);
    expect(ws.get.responses["101"]).toBeDefined();
    expect(doc.paths["/rooms/{id}/join"]!.post.requestBody).toBeUndefined();
    expect(doc.paths["/rooms/{id}/leave"]!.post.requestBody).toBeUndefined();
    const send = doc.paths["/chat/send"]!.post.requestBody.content["application/json"].schema;
    expect(send.required).toEqual(["content"]);
  });

  test("join and leave work with no body at all, as Swagger UI sends them", async () => {
    const owner = await registerUser(rt.app, "sw");
    const guest = await registerUser(rt.app, "sw");
    const auth = (u: { access_token: string }) => ({ authorization: `Bearer ${u.access_token}` });
    const room = await (await fetch(`${rt.base}/rooms`, { method: "POST", headers: { ...auth(owner), "content-type": "application/json" }, body: JSON.stringify({ name: "swagger-room" }) })).json();
    expect((await fetch(`${rt.base}/rooms/${room.id}/join`, { method: "POST", headers: auth(guest) })).status).toBe(200);
    expect((await fetch(`${rt.base}/rooms/${room.id}/leave`, { method: "POST", headers: auth(guest) })).status).toBe(200);
  });

  test("/favicon.ico is an icon", async () => {
    const res = await fetch(`${rt.base}/favicon.ico`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("image/");
  });
});

describe.skipIf(!haveChromium)("Swagger UI in a real browser", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** A page that records requests leaving the machine and any 4xx/5xx answer. */
  async function docsPage(path: string): Promise<{ page: Page; external: string[]; failed: string[] }> {
    const page = await browser.newPage();
    const external: string[] = [];
    const failed: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(rt.base) && !r.url().startsWith("data:")) external.push(r.url());
    });
    page.on("response", (r) => {
      if (r.status() >= 400 && !r.url().endsWith("/users/me")) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${rt.base}${path}`);
    return { page, external, failed };
  }

  test("renders the route list with no request leaving the machine", async () => {
    const { page, external, failed } = await docsPage("/swagger");
    await page.locator(".opblock-summary-path", { hasText: "/auth/register" }).first().waitFor({ timeout: 15_000 });
    const paths = (await page.locator(".opblock-summary-path").allTextContents()).map((x) => x.replace(/\u200b/g, ""));
    for (const p of ["/auth/login", "/chat/send", "/rooms/{id}", "/problems/submit", "/health"]) expect(paths).toContain(p);
    expect(await page.locator("button.authorize").count()).toBeGreaterThan(0);
    expect(external).toEqual([]);
    expect(failed).toEqual([]);
    mkdirSync("test-output/e2e", { recursive: true });
    await page.screenshot({ path: "test-output/e2e/swagger.png" });
    await page.close();
  }, 30_000);

  test("at /swagger/, Authorize with a password, then GET /users/me answers 200", async () => {
    const user = await registerUser(rt.app, "swui");
    const { page, failed } = await docsPage("/swagger/");
    await page.locator("#operations-users-getUsersMe").waitFor({ timeout: 15_000 });

    await page.locator(".auth-wrapper button.authorize").click();
    // The oauth2 block (the bearerAuth one comes first); once authorized it shows the user instead of the inputs.
    const oauth = page.locator(".modal-ux .auth-container", { has: page.locator("h4", { hasText: "oauth2" }) });
    await oauth.locator("#oauth_username").fill(user.username);
    await oauth.locator("#oauth_password").fill(user.password);
    await oauth.getByRole("button", { name: "Apply given OAuth2 credentials" }).click();
    await oauth.getByRole("button", { name: "Remove authorization" }).waitFor({ timeout: 5000 });
    await page.locator(".modal-ux button.close-modal").click();

    const op = page.locator("#operations-users-getUsersMe");
    await op.locator(".opblock-summary").first().click();
    await op.getByRole("button", { name: "Try it out" }).click();
    await op.getByRole("button", { name: "Execute" }).click();
    const status = op.locator(".live-responses-table .response .response-col_status");
    await status.first().waitFor({ timeout: 5000 });
    expect((await status.first().textContent())?.trim()).toStartWith("200");
    expect(await op.locator(".live-responses-table").textContent()).toContain(`"username": "${user.username}"`);
    expect(failed).toEqual([]);
    await page.screenshot({ path: "test-output/e2e/swagger-authorized.png" });
    await page.close();
  }, 30_000);
});
