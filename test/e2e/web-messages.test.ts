/**
 * Reading and writing messages in a real browser: links and basic Markdown
 * drawn safely from text, the "New messages" line and "Jump to latest" in a
 * busy conversation, and drafts kept per conversation across switches and
 * reloads.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import type { TestRuntime } from "../helpers/runtime";
import { chromiumAvailable } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, type WebUser, webStack } from "../helpers/web";

const haveChromium = chromiumAvailable("the web message e2e tests are");
const OUT = "test-output/e2e";

describe.skipIf(!haveChromium)("web client: messages", () => {
  let rt: TestRuntime;
  let pages: WebPages;
  beforeAll(() => {
    mkdirSync(OUT, { recursive: true });
  });
  webStack((s) => ({ rt, pages } = s));

  async function dm(a: WebUser, b: WebUser, text = "hi") {
    return (await asUser(rt, a)("POST", "/chat/send", { to: b.user.id, content: text })).json.message.conversation_id as string;
  }

  test("links open safely in a new tab; bold, italic, code, code blocks and quotes render from text", async () => {
    const [amy, ben] = [await registerUser(rt.app, "amy"), await registerUser(rt.app, "ben")];
    const cid = await dm(amy, ben);
    const content = [
      "read https://example.com/docs_(v2)?q=a&b=1. and **this part** with *care* and `select 1` <b>not bold</b>",
      "javascript:alert(1) stays text, so does snake_case_name",
      "> quoted line",
      "```",
      "select *",
      "from t;",
      "```",
      "after the block",
    ].join("\n");
    await asUser(rt, ben)("POST", "/chat/send", { conversation_id: cid, content });
    const p = await pages.open(amy, `#/c/${cid}`);
    const msg = p.locator(".msg.other .text").last();
    await msg.waitFor({ timeout: 5000 });
    const link = msg.locator("a");
    expect(await link.count()).toBe(1);
    expect(await link.getAttribute("href")).toBe("https://example.com/docs_(v2)?q=a&b=1");
    expect(await link.textContent()).toBe("https://example.com/docs_(v2)?q=a&b=1");
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await msg.locator("strong").textContent()).toBe("this part");
    expect(await msg.locator("em").allTextContents()).toEqual(["care"]);
    expect(await msg.locator(":scope > code").textContent()).toBe("select 1");
    expect(await msg.locator("blockquote").textContent()).toBe("quoted line");
    expect(await msg.locator("pre code").textContent()).toBe("select *\nfrom t;");
    // Markup in a message is text, and nothing but http(s) becomes a link.
    expect(await msg.locator("b").count()).toBe(0);
    expect(await msg.textContent()).toContain("<b>not bold</b>");
    expect(await msg.textContent()).toContain("javascript:alert(1) stays text, so does snake_case_name");
    expect(await msg.textContent()).toContain("after the block");
  }, 30_000);

  test("a busy conversation opens at a 'New messages' line; 'Jump to latest' brings the newest back", async () => {
    const [cat, dan] = [await registerUser(rt.app, "cat"), await registerUser(rt.app, "dan")];
    const cid = await dm(cat, dan, "what did I miss?");
    for (let i = 1; i <= 40; i++) await asUser(rt, dan)("POST", "/chat/send", { conversation_id: cid, content: `news ${i}` });
    const p = await pages.open(cat, "#/");
    await p.locator(`.conv[data-id="${cid}"] .badge`, { hasText: "40" }).waitFor({ timeout: 10_000 });
    await p.locator(`.conv[data-id="${cid}"]`).click();
    const line = p.getByRole("separator", { name: "New messages" });
    await line.waitFor({ timeout: 5000 });
    // The line sits right above the first unread message, and that is what is on screen.
    const next = line.locator("xpath=following-sibling::div[contains(@class,'msg')][1]");
    expect(await next.locator(".text").textContent()).toBe("news 1");
    await next.waitFor({ state: "visible" });
    expect(await next.isVisible()).toBe(true);
    const jump = p.getByRole("button", { name: "Jump to latest" });
    await jump.waitFor({ timeout: 5000 });
    await p.screenshot({ path: `${OUT}/new-messages-line.png` });
    await jump.click();
    const last = p.locator(".msg .text", { hasText: /^news 40$/ });
    await p.waitForFunction(() => {
      const el = document.querySelector(".messages")!;
      return el.scrollHeight - el.scrollTop - el.clientHeight < 5;
    }, null, { timeout: 5000 });
    expect(await last.isVisible()).toBe(true);
    await jump.waitFor({ state: "hidden", timeout: 5000 });
  }, 60_000);

  test("a draft survives switching conversations and a reload, and goes once sent", async () => {
    const [eve, fay, gil] = [await registerUser(rt.app, "eve"), await registerUser(rt.app, "fay"), await registerUser(rt.app, "gil")];
    const withFay = await dm(eve, fay);
    const withGil = await dm(eve, gil);
    const p = await pages.open(eve, `#/c/${withFay}`);
    const input = p.getByLabel("Message", { exact: true });
    await input.fill("half-written thought");
    // The hash changes before the conversation is drawn: wait for its title before reading the composer.
    await p.locator(`.conv[data-id="${withGil}"]`).click();
    await p.waitForURL(new RegExp(`#/c/${withGil}$`));
    await p.locator(".pane-title", { hasText: gil.username }).waitFor({ timeout: 5000 });
    expect(await input.inputValue()).toBe("");
    await input.fill("for gil");
    await p.locator(`.conv[data-id="${withFay}"]`).click();
    await p.waitForURL(new RegExp(`#/c/${withFay}$`));
    await p.locator(".pane-title", { hasText: fay.username }).waitFor({ timeout: 5000 });
    expect(await input.inputValue()).toBe("half-written thought");
    await p.reload();
    await p.locator(".me-handle").waitFor();
    expect(await p.getByLabel("Message", { exact: true }).inputValue()).toBe("half-written thought");
    await p.getByLabel("Message", { exact: true }).press("Enter");
    await p.locator(".msg.own:not(.pending) .text", { hasText: "half-written thought" }).waitFor({ timeout: 5000 });
    await p.reload();
    await p.locator(".me-handle").waitFor();
    expect(await p.getByLabel("Message", { exact: true }).inputValue()).toBe("");
    await p.goto(`${rt.base}/#/c/${withGil}`);
    await p.locator(".me-handle").waitFor();
    expect(await p.getByLabel("Message", { exact: true }).inputValue()).toBe("for gil");
    // Signing out leaves no unsent text in this browser.
    await p.getByRole("button", { name: "Sign out" }).click();
    await p.getByLabel("Password").waitFor({ timeout: 5000 });
    expect(await p.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("huddle.draft.")))).toEqual([]);
  }, 30_000);

  test("no console errors or warnings on any page", () => {
    expect(pages.problems).toEqual([]);
  });
});
