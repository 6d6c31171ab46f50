/**
 * Message search in the web client (real browser, real server): Enter in the
 * sidebar filter searches messages; the snippet highlights the match and
 * shows what was written as text (markup in a message stays text); a result
 * opens the conversation at that message, loading older pages to reach it.
 */
import { describe, expect, test } from "bun:test";
import { type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, webStack } from "../helpers/web";

const haveChromium = chromiumAvailable("the web search e2e tests are");

describe.skipIf(!haveChromium)("web client: search", () => {
  let rt: TestRuntime;
  let pages: WebPages;
  webStack((s) => ({ rt, pages } = s));

  test("a result shows a safe highlighted snippet and jumps to the message in context", async () => {
    const [olga, bob] = [await registerUser(rt.app, "olga"), await registerUser(rt.app, "bob")];
    const room = (await asUser(rt, olga)("POST", "/rooms", { name: "haystack" })).json.id as string;
    await asUser(rt, bob)("POST", `/rooms/${room}/join`);
    const needle = (await asUser(rt, bob)("POST", "/chat/send", { conversation_id: room, content: "the <b>bold</b> needle & <img src=x onerror=alert(1)> thread" })).json.message;
    // Enough after it that the first page of history does not hold it.
    for (let i = 0; i < 80; i++) await asUser(rt, bob)("POST", "/chat/send", { conversation_id: room, content: `hay ${i}` });
    // Search reads PostgreSQL: wait until the persister has written the needle.
    for (let i = 0; i < 100; i++) {
      if ((await asUser(rt, olga)("GET", "/chat/search?q=needle")).json.results?.length) break;
      await Bun.sleep(100);
    }

    const p = await pages.open(olga, "#/");
    await p.getByLabel("Search conversations").fill("needle");
    await p.getByLabel("Search conversations").press("Enter");
    await p.waitForURL(/#\/search\/needle$/, { timeout: 5000 });
    const hit = p.locator(".search-hit").first();
    await hit.waitFor({ timeout: 5000 });
    expect(await p.locator(".search-hit").count()).toBe(1);
    expect(await hit.locator("mark").allTextContents()).toEqual(["needle"]);
    expect(await hit.locator(".snippet").textContent()).toContain("bold</b> needle & <img src=x onerror=alert(1)>");
    expect(await hit.locator(".snippet b, .snippet img").count()).toBe(0);
    expect(await hit.textContent()).toContain("#haystack");

    await hit.click();
    await p.waitForURL(new RegExp(`#/c/${room}/${needle.seq}$`), { timeout: 5000 });
    const target = p.locator(`.msg[data-seq="${needle.seq}"]`);
    await target.waitFor({ timeout: 10_000 });
    expect(await target.getAttribute("class")).toContain("found");
    expect(await target.isVisible()).toBe(true);
    const inView = await target.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const box = el.closest(".messages")!.getBoundingClientRect();
      return r.top >= box.top && r.bottom <= box.bottom;
    });
    expect(inView).toBe(true);
    // In context: the messages around it are there too.
    await p.locator(".msg .text", { hasText: /^hay 0$/ }).waitFor({ timeout: 5000 });

    // A search with no match says so.
    await p.goto(`${rt.base}/#/search/nothingmatchesthis`);
    await p.locator(".search-status", { hasText: "Nothing found" }).waitFor({ timeout: 5000 });
    expect(pages.problems).toEqual([]);
  }, 90_000);
});
