/**
 * The SQL page in a real browser against a real judge (PGlite runners):
 * eight fast clicks on Submit with room for five. The three refusals say so
 * with a live countdown, and every submission that was queued is still
 * followed to its verdict, in the panel and in "Your submissions".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import { buildTestRuntime, generousBuckets, type TestRuntime } from "../helpers/runtime";
import { chromiumAvailable, launchChromium } from "../helpers/browser";
import { registerUser } from "../helpers/app";
import { asUser, WebPages } from "../helpers/web";

const haveChromium = chromiumAvailable("the web judge e2e test is");
const OUT = "test-output/e2e";
const QUEUED = 5;

describe.skipIf(!haveChromium)("web client: SQL submissions", () => {
  let rt: TestRuntime;
  let browser: Browser;
  let pages: WebPages;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    rt = await buildTestRuntime("pglite", {
      listen: true,
      config: { WORKER_CONCURRENCY: "1", RUNNER_POOL_SIZE: "1" },
      buckets: { ...generousBuckets(), submit: { capacity: QUEUED, refillPerSec: QUEUED / 60 } },
    });
    browser = await launchChromium();
    pages = new WebPages(browser, rt);
  }, 30_000);

  afterAll(async () => {
    await pages?.close();
    await browser?.close();
    await rt?.close();
  });

  test("after a refused submit, the earlier ones still reach their verdicts", async () => {
    const kim = await registerUser(rt.app, "kim");
    // The runner pool imports the default pack in the background after start-up (PGlite: several seconds).
    for (let i = 0; i < 600; i++) {
      const res = await asUser(rt, kim)("GET", "/problems");
      if (res.status === 200 && res.json.problems.length > 0) break;
      await Bun.sleep(100);
    }
    const pack = JSON.parse(readFileSync("src/judge/packs/default/pack.json", "utf8")) as { problems: { id: string; solution: string }[] };
    const problem = pack.problems[0]!;
    const p = await pages.open(kim, `#/problems/${encodeURIComponent(problem.id)}`, /status of 429/);
    await p.locator(".statement").waitFor({ timeout: 10_000 });
    await p.getByLabel("Your query").fill(problem.solution);
    const submit = p.getByRole("button", { name: "Submit", exact: true });
    for (let i = 0; i < 8; i++) await submit.click();

    const notice = p.locator(".job-notice .alert");
    await notice.waitFor({ timeout: 5000 });
    const text = async () => (await notice.textContent()) ?? "";
    expect(await text()).toMatch(/^Too many submissions in a short time, so this one was not queued; the earlier ones are judged as usual\. You can submit again in \d+ s\.$/);
    const left = async () => Number(/again in (\d+) s/.exec(await text())?.[1]);
    const before = await left();
    await p.waitForTimeout(2100);
    expect(await left()).toBeLessThan(before);

    // The newest queued submission reaches its verdict in the panel, beside the refusal.
    await p.locator(".job-current .verdict[data-verdict]").waitFor({ timeout: 60_000 });
    expect(await p.locator(".job-current .verdict").getAttribute("data-verdict")).toBe("accepted");
    // Every queued submission is listed, and each ends with its verdict, without a reload.
    const rows = p.locator(".history table.submissions tbody tr");
    await p.waitForFunction((n) => {
      const verdicts = [...document.querySelectorAll(".history table.submissions tbody tr .verdict")];
      return verdicts.length === n && verdicts.every((v) => v.getAttribute("data-verdict") === "accepted");
    }, QUEUED, { timeout: 60_000 });
    expect(await rows.count()).toBe(QUEUED);
    await p.screenshot({ path: `${OUT}/problem-after-429.png` });
  }, 120_000);

  test("no console errors or warnings besides the expected 429s", () => {
    expect(pages.problems).toEqual([]);
  });
});
