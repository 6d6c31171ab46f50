/**
 * How every fuzz property of test/security runs, so that any run can be
 * replayed and the default run cannot fail by luck (see README.md here):
 *
 * - default (`bun test`, CI): the cases of each property are split between the
 *   fixed seeds FIXED_SEEDS, so every run sends the same cases.
 * - `FUZZ_SEED=<integer>`: every property runs all its cases on that seed.
 *   With `FUZZ_PATH=<path>` too, only the case at that path runs: the replay
 *   of one failure.
 * - `FUZZ_SEED=random` (`bun run test:fuzz`): one fresh seed for the whole
 *   process, printed when it is drawn.
 *
 * A failure prints its seed, path, case and the command that replays it.
 */
import fc from "fast-check";

/** Cases per property in the default run (FUZZ_RUNS overrides it). */
export const DEFAULT_RUNS = 60;
export const FUZZ_RUNS = integer("FUZZ_RUNS", process.env.FUZZ_RUNS, 1) ?? DEFAULT_RUNS;

/**
 * The seeds of the default run. Changing them changes the cases CI sends; a
 * new seed that finds something becomes a regression case in
 * regressions.test.ts, not a reason to drop the seed.
 */
export const FIXED_SEEDS = [20240917, 1117, 424242] as const;

/** Test timeouts grow with FUZZ_RUNS, so a long `test:fuzz` run is not cut off at the default's budget. */
export const fuzzTimeout = (ms: number) => Math.round(ms * Math.max(1, FUZZ_RUNS / DEFAULT_RUNS));

function integer(name: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  // A typo must not quietly fall back to the fixed seeds and report a green "replay".
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer in [${min}, ${max}]${name === "FUZZ_SEED" ? " or 'random'" : ""}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function chosenSeed(): number | undefined {
  const raw = process.env.FUZZ_SEED;
  // fast-check seeds are 32-bit integers (it prints them signed).
  if (raw !== "random") return integer("FUZZ_SEED", raw, -(2 ** 31), 2 ** 32 - 1);
  // fast-check's own default seed; drawn once per process, so every file of the run shares it.
  const seed = Date.now() ^ (Math.random() * 0x100000000);
  console.error(`fuzz: random seed ${seed}, FUZZ_RUNS=${FUZZ_RUNS} (rerun it: FUZZ_SEED=${seed} FUZZ_RUNS=${FUZZ_RUNS} bun test ./test/security/fuzz-*.test.ts)`);
  return seed;
}

const SEED = chosenSeed();
const PATH = process.env.FUZZ_PATH || undefined;
if (PATH !== undefined && SEED === undefined) throw new Error("FUZZ_PATH needs FUZZ_SEED: a path only means something for the seed that produced it");
/** One case is being replayed: checks about the variety of a whole run do not apply. */
export const REPLAYING = PATH !== undefined;

/** The (seed, cases) pairs one property runs: the fixed seeds share `numRuns`, a chosen seed gets all of them. */
export function plan(numRuns: number, chosen: { seed?: number; path?: string } = { seed: SEED, path: PATH }): { seed: number; numRuns: number; path?: string }[] {
  const { seed, path } = chosen;
  // Replaying a path, fast-check continues with the cases after it: one case is the replay.
  if (seed !== undefined && path !== undefined) return [{ seed, numRuns: 1, path }];
  if (seed !== undefined) return [{ seed, numRuns }];
  const share = Math.max(1, Math.ceil(numRuns / FIXED_SEEDS.length));
  return FIXED_SEEDS.map((s) => ({ seed: s, numRuns: share }));
}

/** JSON with long strings cut down, for counterexamples a human can read. */
export function describe(v: unknown): string {
  const cut = (s: string) => (s.length > 80 ? `${s.slice(0, 40)}…(${s.length} chars)` : s);
  return (JSON.stringify(v, (_, x) => (typeof x === "string" ? cut(x) : x)) ?? String(v)).slice(0, 1500);
}

/** The replay command for one failure; `name` is a `-t` filter that selects the failing test. */
export function replayCommand(seed: number, path: string, name: string, file: string): string {
  const runs = process.env.FUZZ_RUNS ? ` FUZZ_RUNS=${FUZZ_RUNS}` : "";
  return `FUZZ_SEED=${seed} FUZZ_PATH=${path}${runs} bun test ${file} -t '${name.replaceAll("'", "'\\''")}'`;
}

/**
 * Runs `property` on the plan's seeds. No shrinking (a case can cost an argon2
 * hash, and the mutation kinds already say what went wrong): the first failure
 * ends the run, and is printed on stderr and thrown with its seed and path.
 */
export async function fuzz<Ts>(property: fc.IAsyncProperty<Ts>, where: { name: string; file: string }, numRuns = FUZZ_RUNS): Promise<void> {
  for (const run of plan(numRuns)) {
    await fc.assert(property, {
      ...run,
      endOnFailure: true,
      reporter: (out) => {
        if (!out.failed) return;
        const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
        const path = out.counterexamplePath ?? "";
        const replay = replayCommand(out.seed, path, where.name, where.file);
        // The path's first segment is the case's index for this seed, also when the run was itself a replay.
        const nth = Number(path.split(":")[0]) + 1;
        console.error(`FUZZ FAILURE seed=${out.seed} path=${path} (case ${nth}) in "${where.name}"\n  replay: ${replay}`);
        throw new Error(`fuzz failure (seed ${out.seed}, path ${path}, case ${nth}): ${describe(out.counterexample)}\nreplay: ${replay}\n${cause.slice(0, 3000)}`);
      },
    });
  }
}
