/**
 * The composer's @ autocomplete and clearing one's history in the web client
 * (real browser, real server): typing @ and the start of a name lists the
 * room's people, Enter inserts the username and the sent message carries the
 * mention; "Clear my history" empties the conversation for me only, also
 * after a reload.
 */
import { describe, expect, test } from "bun:test";
import { type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, webStack } from "../helpers/web";

const haveChromium = chromiumAvailable("the web mention e2e tests are");

describe.skipIf(!haveChromium)("web client: mentions and clearing history", () => {
  let rt: TestRuntime;
  let pages: WebPages;
  webStack((s) => ({ rt, pages } = s));

  test("@ lists the room's people and inserts the username; the message mentions them", async () => {
    const [olga, bob, bea] = [await registerUser(rt.app, "olga"), await registerUser(rt.app, "bob"), await registerUser(rt.app, "bea")];
    await asUser(rt, bob)("PATCH", "/users/me", { display_name: "Robert Tables" });
    const room = (await asUser(rt, olga)("POST", "/rooms", { name: "mentions" })).json.id as string;
    await asUser(rt, bob)("POST", `/rooms/${room}/join`);
    await asUser(rt, bea)("POST", `/rooms/${room}/join`);
    const p = await pages.open(olga, `#/c/${room}`);
    await p.locator(".pane-sub", { hasText: "3 members" }).waitFor({ timeout: 5000 });
    const composer = p.locator("#composer-input");
    await composer.click();
    await composer.pressSequentially("thanks @b");
    const list = p.getByRole("listbox", { name: "People to mention" });
    await list.waitFor({ timeout: 5000 });
    expect(await list.getByRole("option").count()).toBe(2);
    // By display name too: "rob" finds Robert Tables.
    await composer.press("Backspace");
    await composer.pressSequentially("rob");
    expect(await list.getByRole("option").allTextContents()).toEqual([`Robert Tables @${bob.username}`]);
    await composer.press("Enter");
    expect(await composer.inputValue()).toBe(`thanks @${bob.username} `);
    expect(await list.isVisible()).toBe(false);
    await composer.pressSequentially("for the review");
    await composer.press("Enter");
    await p.locator(".msg.own:not(.pending)", { hasText: "for the review" }).waitFor({ timeout: 5000 });
    const history = (await asUser(rt, olga)("GET", `/chat/history?conversation_id=${room}`)).json.messages;
    const sent = history.find((m: { content: string }) => m.content.includes("for the review"));
    expect(sent.content).toBe(`thanks @${bob.username} for the review`);
    expect(sent.mentions).toEqual([bob.user.id]);
    // Esc closes the list and Enter then sends what is written.
    await composer.pressSequentially("@be");
    await list.waitFor({ timeout: 5000 });
    await composer.press("Escape");
    expect(await list.isVisible()).toBe(false);
    expect(pages.problems).toEqual([]);
  }, 60_000);

  test("clear my history empties the conversation for me only, after a confirm", async () => {
    const [olga, bob] = [await registerUser(rt.app, "olga"), await registerUser(rt.app, "bob")];
    const sent = await asUser(rt, bob)("POST", "/chat/send", { to: olga.user.id, content: "an old secret" });
    const conv = sent.json.message.conversation_id as string;
    await asUser(rt, olga)("POST", "/chat/send", { conversation_id: conv, content: "my old reply" });
    const p = await pages.open(olga, `#/c/${conv}`);
    await p.locator(".msg", { hasText: "my old reply" }).waitFor({ timeout: 5000 });
    await p.locator(".conv-options summary").click();
    await p.getByRole("button", { name: "Clear my history" }).click();
    await p.getByRole("alert").filter({ hasText: "Others keep theirs" }).waitFor({ timeout: 2000 });
    await p.getByRole("button", { name: "Clear", exact: true }).click();
    await p.locator(".msg", { hasText: "an old secret" }).waitFor({ state: "detached", timeout: 5000 });
    expect(await p.locator(".msg").count()).toBe(0);
    await p.reload();
    await p.locator(".history-edge", { hasText: "beginning of the conversation" }).waitFor({ timeout: 5000 });
    expect(await p.locator(".msg").count()).toBe(0);
    // Bob keeps his.
    expect((await asUser(rt, bob)("GET", `/chat/history?conversation_id=${conv}`)).json.messages.length).toBe(2);
    // A new message after the clear shows as usual.
    await asUser(rt, bob)("POST", "/chat/send", { conversation_id: conv, content: "a fresh start" });
    await p.locator(".msg.other", { hasText: "a fresh start" }).waitFor({ timeout: 5000 });
    expect(pages.problems).toEqual([]);
  }, 60_000);
});
