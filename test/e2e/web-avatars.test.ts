/**
 * Avatars in the web client (real browser, real server, real image
 * processing): a picture chosen on the profile replaces my initials in the
 * sidebar at once; other people see it where they saw my initials (their
 * conversation list, the conversation header, the room's member list);
 * removing it brings the initials back.
 */
import { describe, expect, test } from "bun:test";
import type { Locator } from "playwright-core";
import { type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, webStack } from "../helpers/web";
import { pngWithText } from "../integration/files/fixtures";

const haveChromium = chromiumAvailable("the web avatar e2e tests are");

/** The picture inside an avatar has loaded and is the stored 128 px square. */
const loadedSquare = (avatar: Locator) => avatar.locator("img.avatar-img").evaluate(async (img: HTMLImageElement) => {
  await img.decode();
  return [img.naturalWidth, img.naturalHeight];
});

describe.skipIf(!haveChromium)("web client: avatars", () => {
  let rt: TestRuntime;
  let pages: WebPages;
  webStack((s) => ({ rt, pages } = s));

  test("upload on the profile, seen in the sidebar, by others, and removed", async () => {
    const [olga, bob] = [await registerUser(rt.app, "olga"), await registerUser(rt.app, "bob")];
    const conv = (await asUser(rt, olga)("POST", "/chat/send", { to: bob.user.id, content: "hi bob" })).json.message.conversation_id as string;
    const room = (await asUser(rt, olga)("POST", "/rooms", { name: "faces" })).json.id as string;
    await asUser(rt, bob)("POST", `/rooms/${room}/join`);

    const p = await pages.open(olga, "#/profile");
    expect(await p.locator("a.me .avatar img").count()).toBe(0);
    await p.locator("#avatar-file").setInputFiles({ name: "me.png", mimeType: "image/png", buffer: Buffer.from(await pngWithText(300, 200)) });
    await p.locator(".form-notice.ok", { hasText: "Picture saved." }).waitFor({ timeout: 30_000 });
    expect(await loadedSquare(p.locator("a.me .avatar"))).toEqual([128, 128]);
    expect(await loadedSquare(p.locator(".profile-face .avatar"))).toEqual([128, 128]);

    // Bob sees it in his list, in the conversation's header and in the room's member list.
    const b = await pages.open(bob, `#/c/${conv}`);
    expect(await loadedSquare(b.locator(`.conv[data-id="${conv}"] .avatar`))).toEqual([128, 128]);
    await b.locator(".pane-head .who .avatar img").waitFor({ timeout: 5000 });
    await b.goto(`${rt.base}/#/c/${room}`);
    await b.getByRole("button", { name: /^Members and settings/ }).click();
    await b.locator(`.member[data-user="${olga.username}"] .avatar img`).waitFor({ timeout: 5000 });

    // Removed: the initials are back, here and after a reload.
    await p.getByRole("button", { name: "Remove picture" }).click();
    await p.locator(".form-notice.ok", { hasText: "Picture removed." }).waitFor({ timeout: 5000 });
    expect(await p.locator("a.me .avatar img").count()).toBe(0);
    await p.reload();
    await p.locator(".profile-face .avatar").waitFor();
    expect(await p.locator(".avatar img").count()).toBe(0);
    expect((await asUser(rt, olga)("GET", "/users/me")).json.avatar_url).toBeNull();
    expect(pages.problems).toEqual([]);
  }, 90_000);
});
