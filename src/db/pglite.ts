/**
 * PGlite with its WASM and filesystem bundle embedded. `with { type: "file" }`
 * makes `bun build --compile` put the assets inside the binary and gives a
 * path that works both from source and from the compiled file; compiling the
 * modules once per process saves ~0.3 s on every further instance.
 *
 * A fresh data directory starts from `pglite-template.tar.gz`, an initdb'd
 * cluster made by `bun run scripts/pglite-template.ts` for the installed
 * PGlite: initdb itself takes about 2 s and peaks near 1 GB RSS, more than a
 * small VM has. On disk the template is unpacked by untar.ts before PGlite
 * opens the directory (about 0.2 s).
 */
import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { untarInto } from "./untar";
import { existsSync } from "node:fs";
import { join } from "node:path";
import pgliteWasmPath from "../../node_modules/@electric-sql/pglite/dist/pglite.wasm" with { type: "file" };
import initdbWasmPath from "../../node_modules/@electric-sql/pglite/dist/initdb.wasm" with { type: "file" };
import fsBundlePath from "../../node_modules/@electric-sql/pglite/dist/pglite.data" with { type: "file" };
import { pgliteTemplate } from "./pglite-template-file";

export type PgliteAssets = Pick<PGliteOptions, "pgliteWasmModule" | "initdbWasmModule" | "fsBundle">;

let assets: Promise<PgliteAssets> | undefined;

/**
 * The compiled WASM module and the fs bundle, loaded once per process. No initdb module: every
 * cluster starts from the template (initdbAssets() is for making the template).
 */
export function pgliteAssets(): Promise<PgliteAssets> {
  assets ??= (async () => {
    const pgliteWasmModule = await WebAssembly.compile(await Bun.file(pgliteWasmPath).arrayBuffer());
    const fsBundle = new Blob([await Bun.file(fsBundlePath).arrayBuffer()]);
    return { pgliteWasmModule, fsBundle };
  })();
  return assets;
}

/** pgliteAssets() plus the initdb module, for a PGlite that runs initdb (scripts/pglite-template.ts). */
export async function initdbAssets(): Promise<PgliteAssets> {
  return { ...(await pgliteAssets()), initdbWasmModule: await WebAssembly.compile(await Bun.file(initdbWasmPath).arrayBuffer()) };
}

export interface PgliteTuning {
  /**
   * shared_buffers in MB (PGLITE_SHARED_BUFFERS_MB). PGlite's default, 128 MB, is most of an
   * instance's memory; one user's chat data or one pack's datasets need far less.
   */
  sharedBuffersMb?: number;
}

/** PGlite's own start parameters plus ours (memory sized for a small machine). */
export function pgliteStartParams(tuning: PgliteTuning = {}): string[] {
  const defaults = (PGlite as unknown as { defaultStartParams: string[] }).defaultStartParams;
  return [...defaults, "-c", `shared_buffers=${tuning.sharedBuffersMb ?? 16}MB`];
}

/**
 * Opens a file-backed or in-memory (`dataDir` undefined) PGlite; a directory without a cluster
 * (no PG_VERSION) is filled from the template instead of by initdb.
 */
export async function openPglite(dataDir?: string, extra: PGliteOptions = {}, tuning: PgliteTuning = {}): Promise<PGlite> {
  const fresh = !dataDir || !existsSync(join(dataDir, "PG_VERSION"));
  // On disk the archive is unpacked here, not by PGlite (untar.ts); in memory only PGlite can.
  if (fresh && dataDir) untarInto(dataDir, await unpacked(extra.loadDataDir ?? pgliteTemplate()));
  return PGlite.create({
    ...(await pgliteAssets()),
    startParams: pgliteStartParams(tuning),
    ...(fresh && !dataDir && !extra.loadDataDir ? { loadDataDir: pgliteTemplate() } : {}),
    ...extra,
    ...(dataDir ? { dataDir, loadDataDir: undefined } : {}),
  });
}

/** The tar inside a dump: gzip (the template) or plain (the sandbox's snapshots). */
async function unpacked(archive: Blob): Promise<Uint8Array> {
  const bytes = new Uint8Array(await archive.arrayBuffer());
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? Bun.gunzipSync(bytes) : bytes;
}
