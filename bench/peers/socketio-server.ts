/**
 * The chat peer: a minimal Socket.IO server with the Redis adapter, as a
 * Socket.IO user would write it. A client joins the room named in its
 * handshake query; `send` broadcasts to the rest of the room on every
 * instance (through Redis Pub/Sub) and acknowledges the sender. No auth, no
 * storage, no ordering: it does strictly less work per message than Huddle.
 * Runs under Bun or, bundled by bench/scenarios/chat.ts, under Node.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import Redis from "ioredis";

const port = Number(process.env.PORT);
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

const http = createServer((req, res) => {
  // Socket.IO answers its own path; everything else lands here.
  res.writeHead(req.url === "/health" ? 200 : 404, { "content-type": "text/plain" });
  res.end(req.url === "/health" ? "ok" : "not found");
});
const pub = new Redis(redisUrl);
const sub = pub.duplicate();
const io = new Server(http, { transports: ["websocket"], serveClient: false, adapter: createAdapter(pub, sub) });

io.on("connection", (socket) => {
  const room = String(socket.handshake.query.room ?? "");
  if (room) socket.join(room);
  socket.on("send", (msg: { room: string; content: string }, ack?: () => void) => {
    socket.to(msg.room).emit("message", msg);
    if (typeof ack === "function") ack();
  });
});

http.listen(port, "127.0.0.1");
const stop = () => {
  io.close();
  pub.disconnect();
  sub.disconnect();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
