import { Counter, Gauge } from "prom-client";
import { registry } from "../../plugins/metrics";

export const chatMetrics = {
  sent: new Counter({
    name: "huddle_chat_messages_sent_total",
    help: "Accepted messages by write path (redis or postgres fallback) and whether it was an idempotent retry",
    labelNames: ["path", "duplicate"] as const,
    registers: [registry],
  }),
  sockets: new Gauge({ name: "huddle_ws_sockets", help: "Open WebSockets on this instance", registers: [registry] }),
  wsFrames: new Counter({
    name: "huddle_ws_frames_total",
    help: "WebSocket frames received, by type and outcome",
    labelNames: ["type", "outcome"] as const,
    registers: [registry],
  }),
  persisted: new Counter({ name: "huddle_persisted_messages_total", help: "Messages written to PostgreSQL by the persister", registers: [registry] }),
  persistConflicts: new Counter({
    name: "huddle_persist_conflicts_total",
    help: "Outbox entries skipped because PostgreSQL already had their id, seq or client_id",
    registers: [registry],
  }),
};
