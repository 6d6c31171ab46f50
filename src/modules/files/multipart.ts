/**
 * Reads a multipart body with a running byte count, so a chunked body
 * without Content-Length is cut off at the limit instead of being buffered
 * whole (a declared Content-Length above it was refused in onRequest).
 * File uploads and avatars both come in through here.
 */
import { BadRequest, PayloadTooLarge } from "../../errors";

/** Room for the multipart framing and the small fields around a file of the maximum size. */
export const MULTIPART_OVERHEAD = 64 * 1024;

/** `hint` is the 400 message for a body that is not multipart/form-data: it names the fields the route wants. */
export async function readMultipartForm(request: Request, maxFileBytes: number, hint: string): Promise<FormData> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;/i.test(type)) throw new BadRequest(hint);
  const reader = request.body?.getReader();
  if (!reader) throw new BadRequest("empty request body");
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxFileBytes + MULTIPART_OVERHEAD) {
      await reader.cancel().catch(() => {});
      throw new PayloadTooLarge(maxFileBytes, "file");
    }
    chunks.push(value);
  }
  try {
    return await new Response(new Blob(chunks), { headers: { "content-type": type } }).formData();
  } catch {
    throw new BadRequest("malformed multipart body");
  }
}
