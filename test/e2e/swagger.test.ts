/**
 * The API docs work offline: Swagger UI's assets come from the binary, and
 * the page renders the route list in a real (headless) Chromium.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import type { Browser } from "playwright-core";
import { buildTestRuntime, type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable, launchChromium } from "../helpers/browser";

const haveChromium = chromiumAvailable("the Swagger UI test is");

describe.skipIf(!haveChromium)("Swagger UI in a real browser", () => {
  let rt: TestRuntime;
  let browser: Browser;
  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", { listen: true });
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await rt?.close();
  });

  test("renders the route list with no request leaving the machine", async () => {
    const page = await browser.newPage();
    const external: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(rt.base) && !r.url().startsWith("data:")) external.push(r.url());
    });
    await page.goto(`${rt.base}/swagger`);
    await page.locator(".opblock-summary-path", { hasText: "/auth/register" }).first().waitFor({ timeout: 15_000 });
    const paths = (await page.locator(".opblock-summary-path").allTextContents()).map((x) => x.replace(/\u200b/g, ""));
    for (const p of ["/auth/login", "/chat/send", "/rooms/{id}", "/problems/submit", "/health"]) expect(paths).toContain(p);
    expect(await page.locator("button.authorize").count()).toBeGreaterThan(0);
    expect(external).toEqual([]);
    mkdirSync("test-output/e2e", { recursive: true });
    await page.screenshot({ path: "test-output/e2e/swagger.png" });
  }, 30_000);
});
