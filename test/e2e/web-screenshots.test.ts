/**
 * Screenshots of the main screens at 1280 and 375 px, light and dark, into
 * test-output/screenshots (git-ignored), so anyone can look at the current
 * client. The README's two pictures are copies of two of these
 * (docs/screenshots). Each shot also asserts that the screen rendered what it
 * is named after, and that nothing is wider than the viewport.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { buildTestRuntime, generousBuckets, type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable, launchChromium } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, type WebUser } from "../helpers/web";

const haveChromium = chromiumAvailable("the web screenshots are");
const OUT = "test-output/screenshots";
const SIZES = [{ name: "1280", width: 1280, height: 800 }, { name: "375", width: 375, height: 760 }] as const;
const SCHEMES = ["light", "dark"] as const;

describe.skipIf(!haveChromium)("web client: screenshots", () => {
  let rt: TestRuntime;
  let browser: Browser;
  let pages: WebPages;
  let alice: WebUser;
  let dm: string;
  let room: string;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    rt = await buildTestRuntime("pglite", { listen: true, config: { WORKER_CONCURRENCY: "1", RUNNER_POOL_SIZE: "1" }, buckets: generousBuckets() });
    browser = await launchChromium();
    pages = new WebPages(browser, rt);
    alice = await registerUser(rt.app, "alice");
    const bruno = await registerUser(rt.app, "bruno");
    const as = asUser(rt, alice);
    const bs = asUser(rt, bruno);
    await as("PATCH", "/users/me", { display_name: "Alice Martin", bio: "Data engineer" });
    await bs("PATCH", "/users/me", { display_name: "Bruno Diaz" });
    dm = (await bs("POST", "/chat/send", { to: alice.user.id, content: "Morning! Did the **nightly import** finish?" })).json.message.conversation_id;
    await as("POST", "/chat/send", { conversation_id: dm, content: "Yes, 1,204 rows. The slow part was `orders_by_day`." });
    await bs("POST", "/chat/send", { conversation_id: dm, content: "> The slow part was orders_by_day\nAn index on `ordered_at` should help: https://www.postgresql.org/docs/current/indexes.html" });
    await as("POST", "/chat/send", { conversation_id: dm, content: "Trying it now:\n```\ncreate index on orders (ordered_at);\n```" });
    room = (await as("POST", "/rooms", { name: "sql-study-group", description: "Weekly practice" })).json.id;
    await bs("POST", `/rooms/${room}/join`);
    await bs("POST", "/chat/send", { conversation_id: room, content: "Who is on the window functions problem this week?" });
    for (let i = 0; i < 600; i++) {
      const res = await as("GET", "/problems");
      if (res.status === 200 && res.json.problems.length > 0) break;
      await Bun.sleep(100);
    }
  }, 90_000);

  afterAll(async () => {
    await pages?.close();
    await browser?.close();
    await rt?.close();
  });

  async function shot(p: Page, name: string) {
    await p.evaluate(() => document.fonts.ready);
    const width = p.viewportSize()!.width;
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    await p.screenshot({ path: `${OUT}/${name}.png` });
  }

  for (const size of SIZES) {
    for (const scheme of SCHEMES) {
      test(`main screens at ${size.name} px, ${scheme}`, async () => {
        const tag = `${size.width}-${scheme}`;
        const viewport = { width: size.width, height: size.height };
        const login = await browser.newPage({ viewport, colorScheme: scheme });
        await login.goto(rt.base);
        await login.getByLabel("Password").waitFor();
        await shot(login, `login-${tag}`);
        await login.close();

        const p = await pages.open(alice, "#/", undefined, viewport);
        await p.emulateMedia({ colorScheme: scheme });
        await p.locator(`.conv[data-id="${dm}"]`).waitFor({ timeout: 5000 });
        if (size.width < 760) await shot(p, `conversations-${tag}`);
        const go = async (hash: string, ready: string) => {
          await p.goto(`${rt.base}/${hash}`);
          await p.locator(ready).first().waitFor({ timeout: 30_000 });
        };
        await go(`#/c/${dm}`, ".msg .text a");
        await shot(p, `chat-${tag}`);
        await go(`#/c/${room}`, ".msg");
        await p.getByRole("button", { name: /^Members and settings/ }).click();
        await p.locator("dialog .member-presence:not(:empty)").first().waitFor({ timeout: 5000 });
        await shot(p, `room-members-${tag}`);
        await p.keyboard.press("Escape");
        await go("#/rooms", ".card");
        await shot(p, `rooms-${tag}`);
        await go("#/problems", ".problem-row");
        await shot(p, `problems-${tag}`);
        await go("#/problems/bookstore-cheap-books", ".editor-block .cm-editor");
        await shot(p, `problem-${tag}`);
        await go("#/profile", "#profile-bio");
        await shot(p, `profile-${tag}`);
      }, 60_000);
    }
  }

  test("no console errors or warnings on any page", () => {
    expect(pages.problems).toEqual([]);
  });
});
