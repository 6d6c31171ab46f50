/**
 * Managing a room in a real browser: the member list with roles and
 * presence, inviting someone found by search into a private room (who then
 * sees it), and leaving it again.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import type { TestRuntime } from "../helpers/runtime";
import { chromiumAvailable } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, webStack } from "../helpers/web";

const haveChromium = chromiumAvailable("the web room e2e tests are");
const OUT = "test-output/e2e";
const suffix = Date.now().toString(36).slice(-6);

describe.skipIf(!haveChromium)("web client: rooms you can manage", () => {
  let rt: TestRuntime;
  let pages: WebPages;
  beforeAll(() => {
    mkdirSync(OUT, { recursive: true });
  });
  webStack((s) => ({ rt, pages } = s));

  test("members with roles and presence; an owner invites by search; the invited one sees the room and can leave it", async () => {
    const [olive, pat] = [await registerUser(rt.app, "olive"), await registerUser(rt.app, "pat")];
    await asUser(rt, pat)("PATCH", "/users/me", { display_name: `Pat ${suffix}` });
    const room = (await asUser(rt, olive)("POST", "/rooms", { name: `secret-${suffix}`, is_private: true })).json;
    const o = await pages.open(olive, `#/c/${room.id}`);
    await o.getByRole("button", { name: `Members and settings of #secret-${suffix}` }).click();
    const dialog = o.getByRole("dialog", { name: `#secret-${suffix}` });
    await dialog.waitFor({ timeout: 5000 });
    const me = dialog.locator(`.member[data-user="${olive.username}"]`);
    await me.locator(".member-presence", { hasText: "online" }).waitFor({ timeout: 5000 });
    expect(await me.locator(".tag.role").textContent()).toBe("owner");
    expect(await me.locator(".member-name").textContent()).toContain("(you)");

    await dialog.getByLabel("Invite people").fill(pat.username);
    await dialog.getByRole("button", { name: `Invite Pat ${suffix}` }).click();
    const patRow = dialog.locator(`.member-list .member[data-user="${pat.username}"]`);
    await patRow.waitFor({ timeout: 5000 });
    expect(await dialog.getByRole("heading", { name: "2 members" }).count()).toBe(1);
    // Pat is not signed in anywhere: the list says when he was last seen, not "online".
    await patRow.locator(".member-presence").waitFor({ timeout: 5000 });
    expect(await patRow.locator(".member-presence").textContent()).not.toBe("online");
    expect(await patRow.locator(".tag.role").count()).toBe(0);
    await o.screenshot({ path: `${OUT}/room-members.png` });

    // Pat signs in: the open list shows him online without a reload.
    const p = await pages.open(pat, "#/");
    await patRow.locator(".member-presence", { hasText: /^online$/ }).waitFor({ timeout: 10_000 });
    await o.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached", timeout: 5000 });
    await o.locator(".pane-sub", { hasText: "2 members" }).waitFor({ timeout: 5000 });

    // Pat was invited to a private room: it is in his list, and he can leave it.
    await p.locator(`.conv[data-id="${room.id}"]`).click();
    await p.getByRole("button", { name: `Members and settings of #secret-${suffix}` }).click();
    const his = p.getByRole("dialog", { name: `#secret-${suffix}` });
    await his.getByText("Only the room's owner and admins can invite people.").waitFor({ timeout: 5000 });
    expect(await his.getByLabel("Invite people").count()).toBe(0);
    await his.getByRole("button", { name: "Leave room" }).click();
    await his.getByRole("alert").filter({ hasText: "need an invitation to come back" }).waitFor({ timeout: 2000 });
    await his.getByRole("button", { name: "Leave", exact: true }).click();
    await p.waitForURL(/#\/rooms$/, { timeout: 5000 });
    await p.locator(`.conv[data-id="${room.id}"]`).waitFor({ state: "detached", timeout: 5000 });
    const left = (await asUser(rt, olive)("GET", `/rooms/${room.id}`)).json;
    expect(left.members.map((m: { username: string }) => m.username)).toEqual([olive.username]);
  }, 60_000);

  test("no console errors or warnings on any page", () => {
    expect(pages.problems).toEqual([]);
  });
});
