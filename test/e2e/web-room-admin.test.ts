/**
 * Room administration in the web client (real browser, real server): the
 * owner renames the room, makes someone admin and removes someone from the
 * room dialog; the removed member's open conversation says so and no longer
 * offers to write; the others' headers follow live; deleting the room ends
 * it for everyone.
 */
import { describe, expect, test } from "bun:test";
import { type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, webStack } from "../helpers/web";

const haveChromium = chromiumAvailable("the web room admin e2e tests are");
const suffix = Date.now().toString(36).slice(-6);

describe.skipIf(!haveChromium)("web client: room administration", () => {
  let rt: TestRuntime;
  let pages: WebPages;
  webStack((s) => ({ rt, pages } = s));

  test("rename, make admin, remove (the removed one's view follows), delete", async () => {
    const [olive, pat, quinn] = [await registerUser(rt.app, "olive"), await registerUser(rt.app, "pat"), await registerUser(rt.app, "quinn")];
    const room = (await asUser(rt, olive)("POST", "/rooms", { name: `team-${suffix}` })).json.id as string;
    await asUser(rt, pat)("POST", `/rooms/${room}/join`);
    await asUser(rt, quinn)("POST", `/rooms/${room}/join`);
    const o = await pages.open(olive, `#/c/${room}`);
    const p = await pages.open(pat, `#/c/${room}`);
    const q = await pages.open(quinn, `#/c/${room}`);
    for (const page of [o, p, q]) await page.locator(".pane-sub", { hasText: "3 members" }).waitFor({ timeout: 5000 });

    // Rename from the settings.
    await o.getByRole("button", { name: `Members and settings of #team-${suffix}` }).click();
    const dialog = o.getByRole("dialog", { name: `#team-${suffix}` });
    await dialog.locator("summary", { hasText: "Room settings" }).click();
    await dialog.getByLabel("Name").fill(`crew-${suffix}`);
    await dialog.getByLabel("Description").fill("the crew");
    await dialog.getByRole("button", { name: "Save settings" }).click();
    const renamed = o.getByRole("dialog", { name: `#crew-${suffix}` });
    await renamed.waitFor({ timeout: 5000 });
    await p.locator(".pane-title", { hasText: `crew-${suffix}` }).waitFor({ timeout: 5000 });
    await p.locator(".msg.system", { hasText: `renamed the room to crew-${suffix}` }).waitFor({ timeout: 5000 });

    // Make Pat an admin.
    const patRow = renamed.locator(`.member[data-user="${pat.username}"]`);
    await patRow.getByRole("button", { name: /^Make admin/ }).click();
    await patRow.locator(".tag.role", { hasText: "admin" }).waitFor({ timeout: 5000 });
    expect((await asUser(rt, olive)("GET", `/rooms/${room}`)).json.members.find((m: { user_id: string }) => m.user_id === pat.user.id).role).toBe("admin");

    // Remove Quinn, after a confirm: his page says so and has no composer; the others' headers say 2 members.
    const quinnRow = renamed.locator(`.member[data-user="${quinn.username}"]`);
    await quinnRow.getByRole("button", { name: /^Remove / }).click();
    await quinnRow.getByRole("alert").filter({ hasText: "Remove" }).waitFor({ timeout: 2000 });
    await quinnRow.getByRole("button", { name: "Remove", exact: true }).click();
    await quinnRow.waitFor({ state: "detached", timeout: 5000 });
    await renamed.getByRole("heading", { name: "2 members" }).waitFor({ timeout: 5000 });
    await q.locator(".left-notice", { hasText: "You were removed from this room." }).waitFor({ timeout: 5000 });
    expect(await q.locator("#composer-input").isVisible()).toBe(false);
    expect(await q.locator(".pane-sub", { hasText: "members" }).count()).toBe(0);
    await q.locator(`.conv[data-id="${room}"]`).waitFor({ state: "detached", timeout: 5000 });
    await p.locator(".pane-sub", { hasText: "2 members" }).waitFor({ timeout: 5000 });

    // Delete the room: the owner goes to the rooms page, Pat's view says it is gone.
    await renamed.getByRole("button", { name: "Delete room" }).click();
    await renamed.getByRole("button", { name: "Delete for everyone" }).click();
    await o.waitForURL(/#\/rooms$/, { timeout: 5000 });
    await p.locator(".left-notice", { hasText: "This room was deleted." }).waitFor({ timeout: 5000 });
    expect(await p.locator("#composer-input").isVisible()).toBe(false);
    expect((await asUser(rt, olive)("GET", `/rooms/${room}`)).status).toBe(404);
    expect(pages.problems).toEqual([]);
  }, 60_000);
});
