/**
 * A TCP forwarder we can cut and restore, to take "Redis" away from an engine
 * and bring it back on the same address without touching the real server
 * (other test files share it).
 */
import type { Socket, TCPSocketListener } from "bun";

type Side = { peer?: Socket<Side>; backlog: Uint8Array[] };

function forward(to: Socket<Side> | undefined, from: Side, data: Uint8Array): void {
  if (!to || from.backlog.length > 0) {
    from.backlog.push(data);
    return;
  }
  const written = to.write(data);
  if (written < data.length) from.backlog.push(data.subarray(written));
}

function flush(to: Socket<Side>, from: Side): void {
  while (from.backlog.length > 0) {
    const chunk = from.backlog[0]!;
    const written = to.write(chunk);
    if (written < chunk.length) {
      from.backlog[0] = chunk.subarray(written);
      return;
    }
    from.backlog.shift();
  }
}

export class TcpProxy {
  private listener?: TCPSocketListener<Side>;
  private readonly sockets = new Set<Socket<Side>>();
  port = 0;

  constructor(private readonly target: { hostname: string; port: number }) {}

  /** Listens (again) on the same port once one was chosen. */
  start(): void {
    const sockets = this.sockets;
    const target = this.target;
    this.listener = Bun.listen<Side>({
      hostname: "127.0.0.1",
      port: this.port,
      socket: {
        open(client) {
          client.data = { backlog: [] };
          sockets.add(client);
          void Bun.connect<Side>({
            ...target,
            socket: {
              open(upstream) {
                upstream.data = { peer: client, backlog: [] };
                sockets.add(upstream);
                client.data.peer = upstream;
                flush(upstream, client.data);
              },
              data(upstream, data) {
                forward(client, upstream.data, data);
              },
              drain(upstream) {
                flush(upstream, client.data);
              },
              close(upstream) {
                sockets.delete(upstream);
                client.end();
              },
              error() {},
            },
          }).catch(() => client.end());
        },
        data(client, data) {
          forward(client.data.peer, client.data, data);
        },
        drain(client) {
          if (client.data.peer) flush(client, client.data.peer.data);
        },
        close(client) {
          sockets.delete(client);
          client.data.peer?.end();
        },
        error() {},
      },
    });
    this.port = this.listener.port;
  }

  /** Stops listening and cuts every open connection, like a server going away. */
  stop(): void {
    this.listener?.stop(true);
    this.listener = undefined;
    for (const s of [...this.sockets]) s.terminate();
    this.sockets.clear();
  }
}
