/**
 * The SQL problem page in a real browser against a real judge (PGlite):
 * sample rows, the expected-output preview, hints one at a time, the CodeMirror
 * editor completing table names, Run (skipped while the server has no
 * /problems/run), Shift+Ctrl+Enter submitting, the reference solution after
 * the first accepted answer, stats and streak, titles in "My submissions",
 * one submission for a retried attempt (client_id), and the phone layout.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { buildTestRuntime, generousBuckets, type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable, launchChromium } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages, type WebUser } from "../helpers/web";

const haveChromium = chromiumAvailable("the web SQL page e2e tests are");
const OUT = "test-output/e2e";
type PackProblem = { id: string; title: string; solution: string; hints?: string[]; show_expected?: boolean };
const pack = JSON.parse(readFileSync("src/judge/packs/default/pack.json", "utf8")) as { problems: PackProblem[] };
const problem = pack.problems.find((p) => p.show_expected && (p.hints?.length ?? 0) >= 2)!;
/** The aborted first answer (client_id test) and a missing /problems/run are expected console errors. */
const EXPECTED = /ERR_FAILED|status of 404/;

describe.skipIf(!haveChromium)("web client: SQL problem page", () => {
  let rt: TestRuntime;
  let browser: Browser;
  let pages: WebPages;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    rt = await buildTestRuntime("pglite", { listen: true, config: { WORKER_CONCURRENCY: "1", RUNNER_POOL_SIZE: "1" }, buckets: generousBuckets() });
    browser = await launchChromium();
    pages = new WebPages(browser, rt);
    const probe = await registerUser(rt.app, "probe");
    for (let i = 0; i < 600; i++) {
      const res = await asUser(rt, probe)("GET", "/problems");
      if (res.status === 200 && res.json.problems.length > 0) break;
      await Bun.sleep(100);
    }
  }, 90_000);

  afterAll(async () => {
    await pages?.close();
    await browser?.close();
    await rt?.close();
  });

  const editorOf = (p: Page) => p.getByRole("textbox", { name: "Your query" });
  async function typeQuery(p: Page, sql: string) {
    await editorOf(p).click();
    await p.keyboard.press("Control+A");
    await p.keyboard.press("Delete");
    await editorOf(p).fill(sql);
  }
  const verdict = (p: Page) => p.locator(".job-current .verdict[data-verdict]");

  async function open(user: WebUser, viewport?: { width: number; height: number }) {
    // The sign-in check looks at the sidebar, which a phone hides once a page is open.
    const p = await pages.open(user, "#/", EXPECTED, viewport);
    await p.goto(`${rt.base}/#/problems/${problem.id}`);
    await p.locator(".statement").waitFor({ timeout: 10_000 });
    return p;
  }

  test("sample rows, expected output, hints one at a time; completion; Run; submit with Shift+Ctrl+Enter; solution after solving", async () => {
    const ann = await registerUser(rt.app, "ann");
    const p = await open(ann);
    // Sample rows of each table (the page used to read a field the API does not send).
    const sample = p.locator(".schema table caption", { hasText: "Sample rows" }).first();
    await sample.waitFor({ timeout: 5000 });
    expect(await p.locator(".schema .table-info").first().locator("tbody tr").count()).toBeGreaterThan(0);
    const expected = p.getByRole("region", { name: "Expected output" });
    expect(await expected.locator("thead th").allTextContents()).toEqual(["titletext", "pricenumeric"]);
    const shown = await expected.locator("tbody tr").count();
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThanOrEqual(5);

    const hints = p.getByRole("region", { name: "Hints" });
    expect(await hints.locator("li").count()).toBe(0);
    await hints.getByRole("button", { name: "Show a hint" }).click();
    expect(await hints.locator("li").count()).toBe(1);
    expect(await hints.locator("li").first().textContent()).toContain(problem.hints![0]!.replaceAll("`", "").slice(0, 20));
    await hints.getByRole("button", { name: `Show hint 2 of ${problem.hints!.length}` }).click();
    expect(await hints.locator("li").count()).toBe(2);
    expect(await p.getByRole("region", { name: "Reference solution" }).count()).toBe(0);

    // A real editor: table names complete.
    await editorOf(p).click();
    await p.keyboard.type("select * from boo");
    await p.locator(".cm-tooltip-autocomplete li", { hasText: /^books$/ }).waitFor({ timeout: 5000 });
    await p.keyboard.press("Escape");

    // Run: the query's own rows, no verdict, nothing stored. Skipped while the server has no such route.
    await typeQuery(p, "select title from books order by title limit 3");
    await p.keyboard.press("Control+Enter");
    await p.locator(".run-result, .run-unavailable").first().waitFor({ timeout: 10_000 });
    if (await p.locator(".run-unavailable").count()) {
      console.error("SKIP: POST /problems/run answers 404 here; the Run checks are skipped");
    } else {
      expect(await p.locator('.run-result[data-run="ok"] tbody tr').count()).toBe(3);
      await typeQuery(p, "select title frm books");
      await p.getByRole("button", { name: "Run" }).click();
      await p.locator('.run-result[data-run="error"] .caret-snippet').waitFor({ timeout: 10_000 });
      expect(await p.locator(".history tbody tr").count()).toBe(0);
    }

    // Shift+Ctrl+Enter submits. A wrong answer is not accepted, and the solution stays hidden.
    await typeQuery(p, "select title from books where price < 10");
    await p.keyboard.press("Shift+Control+Enter");
    await verdict(p).waitFor({ timeout: 60_000 });
    expect(await verdict(p).getAttribute("data-verdict")).not.toBe("accepted");
    expect(await p.getByRole("region", { name: "Reference solution" }).count()).toBe(0);
    await typeQuery(p, problem.solution);
    await p.getByRole("button", { name: "Submit", exact: true }).click();
    await p.locator('.job-current .verdict[data-verdict="accepted"]').waitFor({ timeout: 60_000 });
    const solution = p.getByRole("region", { name: "Reference solution" });
    await solution.waitFor({ timeout: 10_000 });
    await solution.locator("summary").click();
    expect(await solution.locator("pre").textContent()).toBe(problem.solution);
    await p.locator(".problem-stats", { hasText: "50% accepted · 1 solver" }).waitFor({ timeout: 5000 });
    await p.screenshot({ path: `${OUT}/problem-solved.png`, fullPage: true });

    // The catalog: solved count, streak, and how others fared; "My submissions" names the problem.
    await p.goto(`${rt.base}/#/problems`);
    await p.locator(".pane-sub", { hasText: "1-day streak" }).waitFor({ timeout: 10_000 });
    expect(await p.locator(".pane-sub").textContent()).toMatch(/^1 of \d+ solved · 1-day streak$/);
    expect(await p.locator(`a[href="#/problems/${problem.id}"] .problem-meta`).textContent()).toBe("50% accepted · 1 solver");
    await p.goto(`${rt.base}/#/submissions`);
    await p.locator("table.submissions tbody tr").nth(1).waitFor({ timeout: 10_000 });
    expect(await p.locator("table.submissions tbody tr td a").allTextContents()).toEqual([problem.title, problem.title]);
  }, 120_000);

  test("Submit is off while sending, and a retried attempt whose answer was lost is queued once", async () => {
    const bo = await registerUser(rt.app, "bo");
    const p = await open(bo);
    let calls = 0;
    await p.route("**/problems/submit", async (route) => {
      calls++;
      const res = await route.fetch();
      // The server took the first one, but its answer never arrives.
      if (calls === 1) return route.abort("failed");
      await route.fulfill({ response: res });
    });
    await typeQuery(p, problem.solution);
    const submit = p.getByRole("button", { name: /^Submit/ });
    await submit.click();
    await p.locator(".job-notice .alert").waitFor({ timeout: 10_000 });
    await submit.click();
    await p.locator('.job-current .verdict[data-verdict="accepted"]').waitFor({ timeout: 60_000 });
    expect(calls).toBe(2);
    const mine = (await asUser(rt, bo)("GET", "/problems/submissions")).json.submissions;
    expect(mine.length).toBe(1);

    // While a submission is on its way, the button is off (a double click sends one).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await p.unroute("**/problems/submit");
    await p.route("**/problems/submit", async (route) => {
      await held;
      await route.continue();
    });
    await typeQuery(p, `${problem.solution} `);
    await submit.dblclick();
    await p.waitForFunction(() => (document.querySelector(".editor-block button[type=submit]") as HTMLButtonElement).disabled);
    expect(await p.locator(".editor-block button[type=submit]").textContent()).toBe("Submitting…");
    release();
    await p.waitForFunction(() => !(document.querySelector(".editor-block button[type=submit]") as HTMLButtonElement).disabled);
    await p.waitForFunction(() => document.querySelectorAll(".history tbody tr").length === 2, null, { timeout: 30_000 });
    expect((await asUser(rt, bo)("GET", "/problems/submissions")).json.submissions.length).toBe(2);
  }, 120_000);

  test("on a phone: the editor comes before the folded schema, titles are whole, tables scroll", async () => {
    const cy = await registerUser(rt.app, "cy");
    const phone = { width: 375, height: 760 };
    const p = await open(cy, phone);
    const editorBox = (await p.locator(".editor-block").boundingBox())!;
    const schemaBox = (await p.locator(".schema").boundingBox())!;
    expect(editorBox.y).toBeLessThan(schemaBox.y);
    expect(await p.locator(".schema-fold").getAttribute("open")).toBeNull();
    await p.locator(".schema-fold > summary").click();
    expect(await p.locator(".schema-fold").getAttribute("open")).toBe("");
    // Nothing on the page is wider than the phone.
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(phone.width);

    await p.goto(`${rt.base}/#/problems`);
    await p.locator(".problem-row").first().waitFor({ timeout: 10_000 });
    const cut = await p.locator(".problem-title").evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
    expect(cut).toEqual([]);

    await asUser(rt, cy)("POST", "/problems/submit", { problem_id: problem.id, sql_query: problem.solution });
    await p.goto(`${rt.base}/#/submissions`);
    const wrap = p.locator(".table-wrap").first();
    await wrap.locator("tbody tr").first().waitFor({ timeout: 10_000 });
    const box = await wrap.evaluate((e) => ({ scroll: e.scrollWidth, client: e.clientWidth, overflow: getComputedStyle(e).overflowX, right: e.getBoundingClientRect().right }));
    expect(box.overflow).toBe("auto");
    expect(box.right).toBeLessThanOrEqual(phone.width);
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(phone.width);
    await p.screenshot({ path: `${OUT}/submissions-phone.png` });
  }, 60_000);

  test("no console errors or warnings besides the expected ones", () => {
    expect(pages.problems).toEqual([]);
  });
});
