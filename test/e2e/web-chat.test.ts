/**
 * Chat details of the web client in a real browser against a real server:
 * own messages never count as unread (live and after a reload), room search
 * and look-alike rooms, a message over the length limit says why it is not
 * sent, and a rate-limited message or sign-in says so in words with a live
 * countdown.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { buildTestRuntime, generousBuckets, type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable, launchChromium } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, type WebUser } from "../helpers/web";

const haveChromium = chromiumAvailable("the web chat e2e tests are");
const OUT = "test-output/e2e";
const suffix = Date.now().toString(36).slice(-6);
// Three messages at once, then one every 5 s: small enough for a test to hit, large enough for the others.
const SEND = { capacity: 3, refillPerSec: 0.2 };

describe.skipIf(!haveChromium)("web client: chat details", () => {
  let rt: TestRuntime;
  let browser: Browser;
  let pages: WebPages;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    rt = await buildTestRuntime("pglite", { listen: true, buckets: { ...generousBuckets(), send: SEND, "login-account": { capacity: 2, refillPerSec: 2 / 60 } } });
    browser = await launchChromium();
    pages = new WebPages(browser, rt);
  }, 30_000);

  afterAll(async () => {
    await pages?.close();
    await browser?.close();
    await rt?.close();
  });

  /** The conversation list as the server computes it, once PostgreSQL holds `seq`. */
  async function persistedList(user: WebUser, conversationId: string, seq: number) {
    for (let i = 0; i < 100; i++) {
      const list = (await asUser(rt, user)("GET", "/chat/conversations")).json.conversations as { id: string; last_seq: number; unread: number; last_read_seq: number }[];
      const c = list.find((x) => x.id === conversationId);
      if (c && c.last_seq >= seq) return c;
      await Bun.sleep(50);
    }
    throw new Error(`seq ${seq} not persisted in time`);
  }

  test("my own messages are never unread, live or after a reload", async () => {
    const [erin, dave] = [await registerUser(rt.app, "erin"), await registerUser(rt.app, "dave")];
    const e = await pages.open(erin);
    const conv = e.locator(".conv", { hasText: dave.username });
    // Erin writes from another device: the conversation appears, with nothing unread.
    const first = await asUser(rt, erin)("POST", "/chat/send", { to: dave.user.id, content: `from my phone ${suffix}` });
    const cid = first.json.message.conversation_id as string;
    await conv.waitFor({ timeout: 5000 });
    await e.waitForTimeout(300);
    expect(await conv.locator(".badge").count()).toBe(0);
    // Dave answers twice: two unread.
    for (const text of ["one", "two"]) await asUser(rt, dave)("POST", "/chat/send", { conversation_id: cid, content: text });
    await conv.locator(".badge", { hasText: "2" }).waitFor({ timeout: 5000 });
    // Erin replies from her phone: she has read what she replied to, here too.
    await asUser(rt, erin)("POST", "/chat/send", { conversation_id: cid, content: "got them" });
    await conv.locator(".badge").waitFor({ state: "detached", timeout: 5000 });
    // The server agrees (sending moved her marker), so a reload shows no badge either.
    const listed = await persistedList(erin, cid, 4);
    expect({ unread: listed.unread, last_read_seq: listed.last_read_seq }).toEqual({ unread: 0, last_read_seq: 4 });
    await e.reload();
    await conv.waitFor({ timeout: 5000 });
    await e.waitForTimeout(300);
    expect(await conv.locator(".badge").count()).toBe(0);
    expect(await e.title()).toBe("Huddle");
  }, 30_000);

  test("room search: no match says so; rooms with the same name show who owns them", async () => {
    const [olga, pete, viewer] = [await registerUser(rt.app, "olga"), await registerUser(rt.app, "pete"), await registerUser(rt.app, "vic")];
    const name = `general-${suffix}`;
    await asUser(rt, olga)("PATCH", "/users/me", { display_name: "Olga" });
    await asUser(rt, olga)("POST", "/rooms", { name });
    const second = await asUser(rt, pete)("POST", "/rooms", { name });
    await asUser(rt, viewer)("POST", `/rooms/${second.json.id}/join`);
    const p = await pages.open(viewer, "#/rooms");
    await p.locator(".card").first().waitFor({ timeout: 5000 });
    await p.getByLabel("Search rooms").fill(`nothing-like-this-${suffix}`);
    await p.locator(".card-list .empty", { hasText: `No rooms match “nothing-like-this-${suffix}”` }).waitFor({ timeout: 5000 });
    expect(await p.getByText("No rooms yet").count()).toBe(0);

    await p.getByLabel("Search rooms").fill(name);
    const cards = p.locator(".card", { hasText: name });
    await cards.nth(1).waitFor({ timeout: 5000 });
    const subs = (await cards.locator(".card-sub").allTextContents()).sort();
    expect(subs).toEqual([`by @${pete.username} · 2 members`, `by Olga (@${olga.username}) · 1 member`]);
    await p.screenshot({ path: `${OUT}/rooms-same-name.png` });
  }, 30_000);

  test("over 4,000 characters, Enter explains why nothing was sent", async () => {
    const [gus, hal] = [await registerUser(rt.app, "gus"), await registerUser(rt.app, "hal")];
    const p = await pages.open(gus, `#/dm/${hal.user.id}`);
    const input = p.getByLabel("Message", { exact: true });
    await input.fill("x".repeat(4005));
    const hint = p.locator(".composer-hint");
    await hint.waitFor({ timeout: 2000 });
    expect(await hint.textContent()).toContain("5 characters over");
    await input.press("Enter");
    await hint.locator("xpath=self::*[@role='alert']").waitFor({ timeout: 2000 });
    expect(await hint.textContent()).toMatch(/^Not sent: a message can be at most 4.000 characters and this one is 5 over/);
    expect(await p.locator(".msg").count()).toBe(0);
    expect((await input.inputValue()).length).toBe(4005);
    await p.screenshot({ path: `${OUT}/composer-too-long.png` });
    // Back under the limit, the explanation goes and Enter sends.
    await input.fill("short again");
    expect(await hint.isHidden()).toBe(true);
    await input.press("Enter");
    await p.locator(".msg.own:not(.pending) .text", { hasText: "short again" }).waitFor({ timeout: 5000 });
  }, 30_000);

  test("a rate-limited message says so in words, counts down live, then can be retried", async () => {
    const [ida, jon] = [await registerUser(rt.app, "ida"), await registerUser(rt.app, "jon")];
    const first = await asUser(rt, ida)("POST", "/chat/send", { to: jon.user.id, content: "hello" });
    const p: Page = await pages.open(ida, `#/c/${first.json.message.conversation_id}`);
    await p.locator(".status.open").waitFor({ state: "attached", timeout: 5000 });
    const input = p.getByLabel("Message", { exact: true });
    for (const text of ["two", "three", "four"]) {
      await input.fill(text);
      await input.press("Enter");
    }
    const meta = p.locator(".msg.failed .meta");
    await meta.waitFor({ timeout: 5000 });
    const seconds = async () => Number(/You can retry in (\d+) s\.$/.exec((await meta.textContent()) ?? "")?.[1]);
    expect(await meta.textContent()).toMatch(/^Not sent: you are sending messages faster than allowed\. You can retry in \d+ s\.$/);
    const before = await seconds();
    await p.waitForTimeout(2100);
    expect(await seconds()).toBeLessThan(before);
    await meta.filter({ hasText: "You can retry now." }).waitFor({ timeout: 8000 });
    await p.getByRole("button", { name: "Retry" }).click();
    await p.locator(".msg.own:not(.pending) .text", { hasText: "four" }).waitFor({ timeout: 5000 });
    expect(await p.locator(".msg.failed").count()).toBe(0);
  }, 30_000);

  test("too many failed sign-ins: the wait is said in words and counts down", async () => {
    const lee = await registerUser(rt.app, "lee");
    const p = await browser.newPage();
    await p.goto(rt.base);
    await p.getByLabel("Username or email").fill(lee.username);
    const alert = p.locator(".auth-form .alert");
    for (let i = 0; i < 3; i++) {
      await p.getByLabel("Password").fill(`wrong ${i}`);
      await p.getByRole("button", { name: "Sign in", exact: true }).click();
      await alert.waitFor({ timeout: 5000 });
    }
    const text = async () => (await alert.textContent()) ?? "";
    await p.waitForFunction(() => /^Too many attempts\. Please wait \d+ s before trying again\.$/.test(document.querySelector(".auth-form .alert")?.textContent ?? ""), null, { timeout: 5000 });
    const left = async () => Number(/wait (\d+) s/.exec(await text())?.[1]);
    const before = await left();
    await p.waitForTimeout(2100);
    expect(await left()).toBeLessThan(before);
    await p.close();
  }, 30_000);

  test("no console errors or warnings on any page", () => {
    expect(pages.problems).toEqual([]);
  });
});
