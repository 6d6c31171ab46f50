/**
 * The layers' one-way arrows (README "Architecture in one page"), read from
 * the source's own import lines: entry -> root -> (modules, actors) -> ports
 * -> adapters. A file that breaks a rule fails here with its name.
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

/** Every relative import of every .ts file under `dir`, resolved to a path from the repository root. */
function importsUnder(dir: string): { file: string; target: string }[] {
  const out: { file: string; target: string }[] = [];
  for (const file of new Glob(`${dir}/**/*.ts`).scanSync({ cwd: ROOT })) {
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const m of text.matchAll(/(?:import|export)[^"';]*?from\s+"(\.{1,2}\/[^"]+)"|import\("(\.{1,2}\/[^"]+)"\)/g)) {
      const spec = m[1] ?? m[2]!;
      out.push({ file, target: relative(ROOT, resolve(ROOT, dirname(file), spec)) });
    }
  }
  return out;
}

const offenders = (dir: string, forbidden: RegExp, except: RegExp = /$^/) =>
  importsUnder(dir).filter((i) => forbidden.test(i.target) && !except.test(i.file)).map((i) => `${i.file} -> ${i.target}`);

describe("one-way layers", () => {
  test("actors never import feature modules, the root, the app or config", () => {
    expect(offenders("actors", /^src\/(modules|root|app|config|main|cli|server|plugins)\b/)).toEqual([]);
  });

  test("the actor kernel imports nothing outside itself", () => {
    expect(offenders("actors/kernel", /^(src|actors\/(?!kernel))/)).toEqual([]);
  });

  test("modules never import actors, the root or the app", () => {
    expect(offenders("src/modules", /^(actors|src\/(root|app|main|cli|server))\b/)).toEqual([]);
  });

  test("ports and adapters (engine, sandbox, db) import no module, actor, plugin or the root", () => {
    for (const dir of ["src/engine", "src/sandbox", "src/db"]) {
      expect(offenders(dir, /^(actors|src\/(modules|plugins|root|app|config|judge))\b/)).toEqual([]);
    }
  });

  test("judging is pure: src/judge builds no backend and imports no module or actor", () => {
    expect(offenders("src/judge", /^(actors|src\/(modules|root|app|config|db|engine)|src\/sandbox\/(?!types))/)).toEqual([]);
  });

  test("modules reach channel names through the engine, never the Redis adapter's key builders", () => {
    expect(offenders("src/modules", /^src\/engine\/(redis|memory)\b/)).toEqual([]);
    expect(offenders("src/engine/memory", /^src\/engine\/redis\b/)).toEqual([]);
  });

  test("only the composition root reads config or constructs services", () => {
    const readers = offenders("src", /^src\/config$/, /^src\/(root|commands|main|cli|server|config)\.ts$/);
    expect(readers).toEqual([]);
    const constructing = [...new Glob("{src,actors}/**/*.ts").scanSync({ cwd: ROOT })]
      .filter((f) => /new (ChatService|AuthService|UsersService|RoomsService|ProblemsService|FilesService|SubmissionJobs|FileJobs|TokenService|TokenGenerations|MessageWriter)\(/.test(readFileSync(join(ROOT, f), "utf8")));
    expect(constructing).toEqual(["src/root.ts"]);
  });

  test("one import style: relative imports without a .ts extension", () => {
    const withExt = importsUnder("src").concat(importsUnder("actors")).filter((i) => i.target.endsWith(".ts"));
    expect(withExt.map((i) => `${i.file} -> ${i.target}`)).toEqual([]);
  });
});
