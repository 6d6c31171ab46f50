/**
 * Editing and deleting one's own messages in the web client (real browser,
 * real server): the message menu edits in place, Up-arrow in an empty
 * composer edits the newest own message, and a delete asks first; the other
 * person's page shows the edit and the tombstone live; a room's owner may
 * delete someone else's message.
 */
import { describe, expect, test } from "bun:test";
import type { TestRuntime } from "../helpers/runtime";
import { chromiumAvailable } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, webStack } from "../helpers/web";

const haveChromium = chromiumAvailable("the web message action e2e tests are");

describe.skipIf(!haveChromium)("web client: edit and delete", () => {
  let rt: TestRuntime;
  let pages: WebPages;
  webStack((s) => ({ rt, pages } = s), {});

  test("edit from the menu and with Up-arrow, delete after a confirm, seen live by the other side", async () => {
    const [olga, bob] = [await registerUser(rt.app, "olga"), await registerUser(rt.app, "bob")];
    const room = (await asUser(rt, olga)("POST", "/rooms", { name: "edits" })).json.id as string;
    await asUser(rt, bob)("POST", `/rooms/${room}/join`);
    const p = await pages.open(olga, `#/c/${room}`);
    const b = await pages.open(bob, `#/c/${room}`);
    const composer = p.locator("#composer-input");
    await composer.fill("frist message");
    await composer.press("Enter");
    await composer.fill("second one");
    await composer.press("Enter");
    const first = p.locator(".msg.own:not(.pending)", { hasText: "frist message" });
    await first.waitFor({ timeout: 5000 });
    await p.locator(".msg.own:not(.pending)", { hasText: "second one" }).waitFor({ timeout: 5000 });

    // The menu: Edit, change the text, Enter saves.
    await first.hover();
    await first.getByRole("button", { name: "More actions" }).click();
    await first.getByRole("button", { name: "Edit" }).click();
    const editor = p.getByRole("textbox", { name: "Edit message" });
    await editor.fill("first message");
    await editor.press("Enter");
    await p.locator(".msg.own .text", { hasText: "first message" }).waitFor({ timeout: 5000 });
    await p.locator(".msg.own", { hasText: "first message" }).locator(".meta", { hasText: "edited" }).waitFor({ timeout: 5000 });
    await b.locator(".msg.other", { hasText: "first message" }).locator(".meta", { hasText: "edited" }).waitFor({ timeout: 5000 });

    // Up-arrow in the empty composer edits the newest own message; Esc cancels without a change.
    await composer.click();
    await composer.press("ArrowUp");
    expect(await p.getByRole("textbox", { name: "Edit message" }).inputValue()).toBe("second one");
    await p.getByRole("textbox", { name: "Edit message" }).press("Escape");
    expect(await p.locator(".msg-editor").count()).toBe(0);
    await composer.press("ArrowUp");
    await p.getByRole("textbox", { name: "Edit message" }).fill("second one, edited");
    await p.getByRole("textbox", { name: "Edit message" }).press("Enter");
    await b.locator(".msg.other .text", { hasText: "second one, edited" }).waitFor({ timeout: 5000 });

    // Delete asks first; Cancel keeps the message, Delete leaves a tombstone on both pages.
    const second = p.locator(".msg.own", { hasText: "second one, edited" });
    await second.hover();
    await second.getByRole("button", { name: "More actions" }).click();
    await second.getByRole("button", { name: "Delete" }).click();
    await p.getByRole("alertdialog", { name: "Delete message" }).getByRole("button", { name: "Cancel" }).click();
    expect(await p.locator(".msg.own .text.deleted").count()).toBe(0);
    await second.hover();
    await second.getByRole("button", { name: "More actions" }).click();
    await second.getByRole("button", { name: "Delete" }).click();
    await p.getByRole("alertdialog", { name: "Delete message" }).getByRole("button", { name: "Delete" }).click();
    await p.locator(".msg.own .text.deleted", { hasText: "This message was deleted" }).waitFor({ timeout: 5000 });
    await b.locator(".msg.other .text.deleted", { hasText: "This message was deleted" }).waitFor({ timeout: 5000 });
    expect(await b.locator(".msg", { hasText: "second one" }).count()).toBe(0);
    // Nothing to change on a tombstone, nor on someone else's message.
    expect(await p.locator(".msg.own", { hasText: "This message was deleted" }).getByRole("button", { name: "More actions" }).count()).toBe(0);
    expect(await b.locator(".msg.other").getByRole("button", { name: "More actions" }).count()).toBe(0);

    // The room's owner may delete someone else's message (not edit it).
    await asUser(rt, bob)("POST", "/chat/send", { conversation_id: room, content: "buy cheap spam" });
    const spam = p.locator(".msg.other", { hasText: "buy cheap spam" });
    await spam.waitFor({ timeout: 5000 });
    await spam.hover();
    await spam.getByRole("button", { name: "More actions" }).click();
    expect(await spam.getByRole("button", { name: "Edit" }).count()).toBe(0);
    await spam.getByRole("button", { name: "Delete" }).click();
    await p.getByRole("alertdialog", { name: "Delete message" }).getByRole("button", { name: "Delete" }).click();
    await b.locator(".msg.own .text.deleted").waitFor({ timeout: 5000 });
    expect(await b.locator(".msg", { hasText: "buy cheap spam" }).count()).toBe(0);
    expect(pages.problems).toEqual([]);
  }, 60_000);
});
