/**
 * PGlite with its WASM and filesystem bundle embedded. `with { type: "file" }`
 * makes `bun build --compile` put the assets inside the binary and gives a
 * path that works both from source and from the compiled file; compiling the
 * modules once per process saves ~0.3 s on every further instance.
 */
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import pgliteWasmPath from "../../node_modules/@electric-sql/pglite/dist/pglite.wasm" with { type: "file" };
import initdbWasmPath from "../../node_modules/@electric-sql/pglite/dist/initdb.wasm" with { type: "file" };
import fsBundlePath from "../../node_modules/@electric-sql/pglite/dist/pglite.data" with { type: "file" };

export type PgliteAssets = Pick<PGliteOptions, "pgliteWasmModule" | "initdbWasmModule" | "fsBundle">;

let assets: Promise<PgliteAssets> | undefined;

/** Compiled WASM modules and the fs bundle, loaded once per process (or Worker). */
export function pgliteAssets(): Promise<PgliteAssets> {
  assets ??= (async () => {
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
      WebAssembly.compile(await Bun.file(pgliteWasmPath).arrayBuffer()),
      WebAssembly.compile(await Bun.file(initdbWasmPath).arrayBuffer()),
    ]);
    const fsBundle = new Blob([await Bun.file(fsBundlePath).arrayBuffer()]);
    return { pgliteWasmModule, initdbWasmModule, fsBundle };
  })();
  return assets;
}

/** Opens (creating on first use) a file-backed or in-memory (`dataDir` undefined) PGlite. */
export async function openPglite(dataDir?: string, extra: PGliteOptions = {}): Promise<PGlite> {
  return PGlite.create({ ...(await pgliteAssets()), ...extra, ...(dataDir ? { dataDir } : {}) });
}
