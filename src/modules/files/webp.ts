/**
 * WebP decoding for thumbnails. @jimp/wasm-webp finds its WASM through
 * import.meta.url, which inside `bun build --compile` points into the binary
 * and fails; so its codec (@jsquash/webp) is used directly, with the WASM
 * embedded by `with { type: "file" }` and handed over compiled.
 */
import decodeWebp, { init } from "@jsquash/webp/decode.js";
import wasmPath from "../../../node_modules/@jsquash/webp/codec/dec/webp_dec.wasm" with { type: "file" };

let ready: Promise<void> | undefined;

export async function decodeWebpRgba(bytes: Uint8Array): Promise<{ data: Uint8Array; width: number; height: number }> {
  ready ??= (async () => {
    const module = await WebAssembly.compile(await Bun.file(wasmPath).arrayBuffer());
    await (init as unknown as (m: WebAssembly.Module) => Promise<void>)(module);
  })();
  await ready;
  const image = await decodeWebp(bytes.slice().buffer);
  return { data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength), width: image.width, height: image.height };
}
