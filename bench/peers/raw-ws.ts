/**
 * The machine's limit for WebSocket fan-out: Bun.serve with its built-in
 * pub/sub, one process, no Redis, no JSON, no auth. A client subscribes to
 * the room in `?room=`; a frame starting with "e" is echoed back, any other
 * frame is published to the rest of the room and acknowledged with "a".
 */
const server = Bun.serve<{ room: string }>({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT),
  fetch(req, srv) {
    const url = new URL(req.url);
    if (url.pathname === "/health") return new Response("ok");
    if (srv.upgrade(req, { data: { room: url.searchParams.get("room") ?? "" } })) return undefined;
    return new Response("not found", { status: 404 });
  },
  websocket: {
    open(ws) {
      if (ws.data.room) ws.subscribe(ws.data.room);
    },
    message(ws, msg) {
      const text = typeof msg === "string" ? msg : msg.toString();
      if (text.charCodeAt(0) === 101 /* e */) return void ws.send(text);
      ws.publish(ws.data.room, text);
      ws.send("a");
    },
  },
});

process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
