/**
 * A tiny in-process stand-in for an S3 bucket (path-style PUT/GET/HEAD/DELETE,
 * no auth checks). Not S3: it only lets the thin S3 adapter run its contract
 * through Bun.S3Client's real requests when no bucket is configured.
 */
export function fakeS3() {
  const objects = new Map<string, Uint8Array<ArrayBuffer>>();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const key = new URL(req.url).pathname;
      switch (req.method) {
        case "PUT":
          objects.set(key, new Uint8Array(await req.arrayBuffer()));
          return new Response(null, { headers: { etag: '"fake"' } });
        case "GET":
        case "HEAD": {
          const o = objects.get(key);
          if (!o) return new Response("<Error><Code>NoSuchKey</Code></Error>", { status: 404, headers: { "content-type": "application/xml" } });
          return new Response(req.method === "HEAD" ? null : o, { headers: { "content-length": String(o.length), etag: '"fake"' } });
        }
        case "DELETE":
          objects.delete(key);
          return new Response(null, { status: 204 });
        default:
          return new Response(null, { status: 405 });
      }
    },
  });
  return { endpoint: `http://127.0.0.1:${server.port}`, objects, stop: () => server.stop(true) };
}
