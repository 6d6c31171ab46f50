import { PostgresSandboxBackend } from "./src/sandbox/postgres-sandbox";
import { RunnerPool } from "./src/sandbox/pool";
import { dropPostgresSandbox } from "./src/sandbox/postgres-setup";
import { defaultPack } from "./src/judge/default-pack";
import { importPack } from "./src/judge/judge";
import { compareResults } from "./src/judge/compare";
const config = { adminUrl: "postgres://postgres@127.0.0.1:5432/postgres", database: "judge_scratch_sb", role: "judge_scratch_runner" };
const pool = new RunnerPool(await PostgresSandboxBackend.open(config), { size: 1, queueTimeoutMs: 5000 });
try {
  const t0 = performance.now();
  const imp = await importPack(pool, defaultPack());
  console.log("import ms", Math.round(performance.now() - t0), "warnings", imp.warnings);
  for (const p of imp.problems) {
    const diffs = p.hiddenTests.map((t) => `${t.name}:${t.expected.rows.length}${compareResults(p.expected, t.expected, p.ordered).verdict === "accepted" ? "=" : "≠"}`);
    console.log(p.id, p.expected.rows.length, diffs.join(" "));
  }
} finally { await pool.close(); await dropPostgresSandbox(config); }
