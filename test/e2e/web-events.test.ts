/**
 * Edits, deletes and system lines in the web client (real browser, real
 * server): the edited message changes in place with an "edited" mark, a
 * deleted one becomes a tombstone, edit and delete entries draw nothing of
 * their own, and room changes show as system lines; live and after a reload.
 */
import { describe, expect, test } from "bun:test";
import type { TestRuntime } from "../helpers/runtime";
import { chromiumAvailable } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, webStack } from "../helpers/web";

const haveChromium = chromiumAvailable("the web events e2e tests are");

describe.skipIf(!haveChromium)("web client: edits, deletes, system lines", () => {
  let rt: TestRuntime;
  let pages: WebPages;
  webStack((s) => ({ rt, pages } = s), {});

  test("an edit changes the message in place, a delete leaves a tombstone, room changes are lines", async () => {
    const [olga, bob] = [await registerUser(rt.app, "olga"), await registerUser(rt.app, "bob")];
    const room = (await asUser(rt, olga)("POST", "/rooms", { name: "events" })).json.id as string;
    await asUser(rt, bob)("POST", `/rooms/${room}/join`);
    const p = await pages.open(olga, `#/c/${room}`);
    await p.locator(".msg.system .text", { hasText: "joined the room" }).waitFor({ timeout: 5000 });
    const sent = await asUser(rt, bob)("POST", "/chat/send", { conversation_id: room, content: "tpyo here" });
    const id = sent.json.message.id as string;
    const bubble = p.locator(".msg.other .text").first();
    await p.locator(".msg.other .text", { hasText: "tpyo here" }).waitFor({ timeout: 5000 });

    expect((await asUser(rt, bob)("PATCH", `/chat/messages/${id}`, { content: "typo fixed" })).status).toBe(200);
    await p.locator(".msg.other .text", { hasText: "typo fixed" }).waitFor({ timeout: 5000 });
    await p.locator(".msg.other .meta", { hasText: "edited" }).waitFor({ timeout: 5000 });
    expect(await p.locator(".msg.other").count()).toBe(1);

    expect((await asUser(rt, olga)("DELETE", `/chat/messages/${id}`)).status).toBe(200);
    await p.locator(".msg.other .text.deleted", { hasText: "This message was deleted" }).waitFor({ timeout: 5000 });
    expect(await p.locator(".msg.other").count()).toBe(1);
    expect(await bubble.textContent()).not.toContain("typo");

    await asUser(rt, olga)("PATCH", `/rooms/${room}`, { name: "renamed" });
    await p.locator(".msg.system .text", { hasText: "renamed the room to renamed" }).waitFor({ timeout: 5000 });

    // After a reload, from history: the same picture.
    await p.reload();
    await p.locator(".msg.other .text.deleted").waitFor({ timeout: 5000 });
    expect(await p.locator(".msg.other").count()).toBe(1);
    expect(await p.locator(".msg.system").count()).toBe(3);
    expect(await p.locator(".msg", { hasText: "typo" }).count()).toBe(0);
    expect(pages.problems).toEqual([]);
  }, 60_000);
});
