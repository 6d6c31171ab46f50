/**
 * The profile screen in a real browser: display name and bio saved and shown,
 * and a password change that keeps this session (new tokens) while the old
 * password stops working.
 */
import { describe, expect, test } from "bun:test";
import type { TestRuntime } from "../helpers/runtime";
import { chromiumAvailable } from "../helpers/browser";
import { call, registerUser } from "../helpers/app";
import { asUser, WebPages, webStack } from "../helpers/web";

const haveChromium = chromiumAvailable("the web profile e2e tests are");

describe.skipIf(!haveChromium)("web client: profile", () => {
  let rt: TestRuntime;
  let pages: WebPages;
  webStack((s) => ({ rt, pages } = s));

  test("display name and bio are saved; a password change keeps this session and retires the old password", async () => {
    const quinn = await registerUser(rt.app, "quinn");
    const p = await pages.open(quinn, "#/");
    await p.getByTitle("Your profile").click();
    await p.waitForURL(/#\/profile$/);
    await p.getByLabel("Display name").fill("Quinn Q");
    await p.getByLabel("Bio").fill("Writes SQL for fun.");
    await p.getByRole("button", { name: "Save profile" }).click();
    await p.getByText("Profile saved.").waitFor({ timeout: 5000 });
    expect(await p.locator(".me-name").textContent()).toBe("Quinn Q");
    const me = (await asUser(rt, quinn)("GET", "/users/me")).json;
    expect({ display_name: me.display_name, bio: me.bio }).toEqual({ display_name: "Quinn Q", bio: "Writes SQL for fun." });

    const change = p.getByRole("button", { name: "Change password" });
    await p.getByLabel("Current password").fill("not my password");
    await p.getByLabel("New password", { exact: true }).fill("a brand new secret");
    await p.getByLabel("New password again").fill("a brand new secreT");
    await change.click();
    await p.getByText("The two new passwords differ.").waitFor({ timeout: 2000 });
    await p.getByLabel("New password again").fill("a brand new secret");
    await change.click();
    await p.locator(".form-notice.bad").filter({ hasText: /password/i }).waitFor({ timeout: 5000 });
    await p.getByLabel("Current password").fill(quinn.password);
    await change.click();
    await p.getByText("Password changed. Your other sessions were signed out.").waitFor({ timeout: 5000 });

    // This tab keeps working on its new tokens, after a reload too.
    await p.reload();
    await p.locator(".me-name", { hasText: "Quinn Q" }).waitFor({ timeout: 5000 });
    expect(await p.getByLabel("Bio").inputValue()).toBe("Writes SQL for fun.");
    const login = (password: string) => call(rt.app, "POST", "/auth/login", { body: { username: quinn.username, password } });
    expect((await login(quinn.password)).status).toBe(401);
    expect((await login("a brand new secret")).status).toBe(200);
  }, 30_000);

  test("no console errors or warnings on any page", () => {
    // The refused password change answers 4xx on purpose; everything else must be clean.
    expect(pages.problems.filter((m) => !/status of 40[01]/.test(m))).toEqual([]);
  });
});
