/**
 * Prometheus metrics (prom-client). HTTP counts and latency are labelled by
 * route pattern, never by raw path, so ids in URLs cannot explode cardinality.
 * Other parts of the app register their metrics on the same `registry`.
 */
import { Elysia } from "elysia";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export const registry = new Registry();
collectDefaultMetrics({ register: registry });
// Bun's v8.getHeapSpaceStatistics() walks the heap: 80-400 ms of blocked event loop per scrape, which
// would let anyone stall the server by polling the unauthenticated /metrics.
for (const kind of ["total", "used", "available"]) registry.removeSingleMetric(`nodejs_heap_space_size_${kind}_bytes`);

export const httpRequests = new Counter({
  name: "huddle_http_requests_total",
  help: "HTTP requests by method, route and status",
  labelNames: ["method", "route", "status"] as const,
  registers: [registry],
});
export const httpDuration = new Histogram({
  name: "huddle_http_request_duration_seconds",
  help: "HTTP request latency by method, route and status",
  labelNames: ["method", "route", "status"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});
export const rateLimited = new Counter({
  name: "huddle_rate_limited_total",
  help: "Requests refused by a rate limit, by scope",
  labelNames: ["scope"] as const,
  registers: [registry],
});
export const bodyTooLarge = new Counter({
  name: "huddle_body_too_large_total",
  help: "Requests refused with 413",
  registers: [registry],
});

const started = new WeakMap<Request, number>();

export const metricsPlugin = new Elysia({ name: "metrics" })
  .onRequest(({ request }) => {
    started.set(request, performance.now());
  })
  .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
    const t0 = started.get(request);
    if (t0 === undefined) return;
    const status = String(typeof set.status === "number" ? set.status : 200);
    const labels = { method: request.method, route: route || "unmatched", status };
    httpRequests.inc(labels);
    httpDuration.observe(labels, (performance.now() - t0) / 1000);
  });
