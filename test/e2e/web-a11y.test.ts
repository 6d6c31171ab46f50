/**
 * Keyboard and accessibility in a real browser: Esc closes dialogs,
 * Alt+Up/Down walks the conversation list, "/" focuses search, focus is
 * always visible, and axe-core finds no serious or critical violations on the
 * login, chat, rooms and SQL pages, in light and dark mode.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Browser, Page } from "playwright-core";
import { buildTestRuntime, generousBuckets, type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable, launchChromium } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { axeProblems } from "../helpers/axe";
import { asUser, WebPages, type WebUser } from "../helpers/web";

const haveChromium = chromiumAvailable("the web accessibility e2e tests are");
const suffix = Date.now().toString(36).slice(-6);

describe.skipIf(!haveChromium)("web client: keyboard and accessibility", () => {
  let rt: TestRuntime;
  let browser: Browser;
  let pages: WebPages;
  let uma: WebUser;
  let roomId: string;
  const convIds: string[] = [];

  beforeAll(async () => {
    rt = await buildTestRuntime("pglite", { listen: true, config: { WORKER_CONCURRENCY: "1", RUNNER_POOL_SIZE: "1" }, buckets: generousBuckets() });
    browser = await launchChromium();
    pages = new WebPages(browser, rt);
    uma = await registerUser(rt.app, "uma");
    const [vic, wes] = [await registerUser(rt.app, "vic"), await registerUser(rt.app, "wes")];
    roomId = (await asUser(rt, uma)("POST", "/rooms", { name: `a11y-${suffix}`, description: "keyboard check" })).json.id;
    await asUser(rt, uma)("POST", "/chat/send", { conversation_id: roomId, content: "room hello with https://example.com" });
    for (const peer of [vic, wes]) {
      const sent = await asUser(rt, peer)("POST", "/chat/send", { to: uma.user.id, content: `hello from ${peer.username}, **bold** and \`code\`` });
      convIds.push(sent.json.message.conversation_id);
    }
    // The runner pool imports the default pack in the background after start-up.
    for (let i = 0; i < 600; i++) {
      const res = await asUser(rt, uma)("GET", "/problems");
      if (res.status === 200 && res.json.problems.length > 0) break;
      await Bun.sleep(100);
    }
  }, 90_000);

  afterAll(async () => {
    await pages?.close();
    await browser?.close();
    await rt?.close();
  });

  /** The order the sidebar shows. */
  const listed = (p: Page) => p.locator(".conv").evaluateAll((els) => els.map((e) => e.getAttribute("data-id")!));

  test("Alt+Down / Alt+Up move between conversations; '/' focuses search; Esc closes the room dialog", async () => {
    const p = await pages.open(uma, "#/");
    await p.locator(".conv").nth(2).waitFor({ timeout: 5000 });
    const order = await listed(p);
    expect(order.sort()).toEqual([roomId, ...convIds].sort());
    const ids = await listed(p);
    await p.keyboard.press("Alt+ArrowDown");
    await p.waitForURL(new RegExp(`#/c/${ids[0]}$`));
    // From inside the composer too.
    await p.getByLabel("Message", { exact: true }).waitFor();
    await p.keyboard.press("Alt+ArrowDown");
    await p.waitForURL(new RegExp(`#/c/${ids[1]}$`));
    await p.keyboard.press("Alt+ArrowUp");
    await p.waitForURL(new RegExp(`#/c/${ids[0]}$`));

    // "/" while typing is a slash; elsewhere it goes to search.
    const composer = p.getByLabel("Message", { exact: true });
    await composer.fill("a/b");
    expect(await composer.inputValue()).toBe("a/b");
    await p.locator(".messages").focus();
    await p.keyboard.press("/");
    expect(await p.evaluate(() => document.activeElement?.id)).toBe("conv-filter");
    await p.keyboard.type("a11y");
    await p.waitForFunction(() => document.querySelectorAll(".conv").length === 1);
    await p.keyboard.press("Escape");
    await p.waitForFunction(() => document.querySelectorAll(".conv").length === 3);
    await p.goto(`${rt.base}/#/rooms`);
    await p.locator("#room-search").waitFor();
    await p.locator("main h2").click();
    await p.keyboard.press("/");
    expect(await p.evaluate(() => document.activeElement?.id)).toBe("room-search");

    await p.goto(`${rt.base}/#/c/${roomId}`);
    await p.getByRole("button", { name: /^Members and settings/ }).click();
    const dialog = p.getByRole("dialog");
    await dialog.locator(".member").first().waitFor({ timeout: 5000 });
    await p.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached", timeout: 2000 });
    // Focus comes back to the button that opened it.
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe("Members");
  }, 30_000);

  test("keyboard focus is always visible", async () => {
    const p = await pages.open(uma, `#/c/${convIds[0]}`);
    await p.locator(".msg").first().waitFor({ timeout: 5000 });
    await p.locator(".me").focus();
    const invisible: string[] = [];
    for (let i = 0; i < 25; i++) {
      await p.keyboard.press("Tab");
      const seen = await p.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return null;
        const st = getComputedStyle(el);
        const ring = (st.outlineStyle !== "none" && parseFloat(st.outlineWidth) > 0) || st.boxShadow !== "none";
        return ring ? "" : `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}.${el.className}`;
      });
      if (seen) invisible.push(seen);
    }
    expect(invisible).toEqual([]);
  }, 30_000);

  for (const scheme of ["light", "dark"] as const) {
    test(`axe-core: no serious or critical violations on the login, chat, rooms and SQL pages (${scheme})`, async () => {
      const login = await browser.newPage({ colorScheme: scheme });
      await login.goto(rt.base);
      await login.getByLabel("Password").waitFor();
      const found: Record<string, unknown> = {};
      const check = async (name: string, p: Page) => {
        const v = await axeProblems(p);
        if (v.length) found[name] = v;
      };
      await check("login", login);
      await login.close();
      const p = await pages.open(uma, `#/c/${convIds[0]}`);
      await p.emulateMedia({ colorScheme: scheme });
      await p.locator(".msg").first().waitFor({ timeout: 5000 });
      await check("chat", p);
      await p.goto(`${rt.base}/#/c/${roomId}`);
      await p.locator(".msg").first().waitFor({ timeout: 5000 });
      // An own message's actions, opened, then its editor.
      await p.locator(".msg.own").first().hover();
      await p.locator(".msg.own").first().getByRole("button", { name: "More actions" }).click();
      await check("message menu", p);
      await p.locator(".msg.own").first().getByRole("button", { name: "Edit" }).click();
      await check("message editor", p);
      await p.getByRole("textbox", { name: "Edit message" }).press("Escape");
      await p.getByRole("button", { name: /^Members and settings/ }).click();
      await p.getByRole("dialog").locator(".member-presence:not(:empty)").first().waitFor({ timeout: 5000 });
      await p.getByRole("dialog").locator("summary", { hasText: "Room settings" }).click();
      await check("room dialog", p);
      await p.keyboard.press("Escape");
      await p.goto(`${rt.base}/#/rooms`);
      await p.locator(".card").first().waitFor({ timeout: 5000 });
      await check("rooms", p);
      await p.goto(`${rt.base}/#/search/hello`);
      await p.locator(".search-hit, .search-status:not(:empty)").first().waitFor({ timeout: 5000 });
      await check("search", p);
      await p.goto(`${rt.base}/#/problems`);
      await p.locator(".problem-row").first().waitFor({ timeout: 30_000 }).catch(async (e) => {
        console.error(await p.locator("main").textContent(), JSON.stringify((await asUser(rt, uma)("GET", "/problems")).json).slice(0, 300));
        throw e;
      });
      await check("problems", p);
      await p.locator(".problem-row").first().click();
      await p.locator(".statement").waitFor({ timeout: 10_000 });
      await check("problem", p);
      await p.goto(`${rt.base}/#/profile`);
      await p.getByLabel("Bio").waitFor();
      await check("profile", p);
      if (Object.keys(found).length) console.error(JSON.stringify(found, null, 1));
      expect(found).toEqual({});
    }, 60_000);
  }

  test("no console errors or warnings on any page", () => {
    expect(pages.problems).toEqual([]);
  });
});
