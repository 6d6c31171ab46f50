/**
 * A tiny SMTP server for tests (RFC 5321's happy path, no TLS, no auth): it
 * answers EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP and QUIT and keeps every
 * message it was given, so a test can read what an email said and to whom.
 */
import type { Socket, TCPSocketListener } from "bun";

export type Mail = { from: string; to: string[]; data: string; at: number };

type State = { buf: string; from: string; to: string[]; data: string[] | null };

export class SmtpSink {
  readonly mails: Mail[] = [];
  private constructor(private readonly server: TCPSocketListener<State>) {}

  get url() {
    return `smtp://127.0.0.1:${this.server.port}`;
  }

  static start(): SmtpSink {
    let sink!: SmtpSink;
    const server = Bun.listen<State>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          s.data = { buf: "", from: "", to: [], data: null };
          s.write("220 sink ESMTP ready\r\n");
        },
        data(s, chunk) {
          s.data.buf += chunk.toString("latin1");
          let at;
          while ((at = s.data.buf.indexOf("\r\n")) >= 0) {
            const line = s.data.buf.slice(0, at);
            s.data.buf = s.data.buf.slice(at + 2);
            sink.line(s, line);
          }
        },
      },
    });
    sink = new SmtpSink(server);
    return sink;
  }

  private line(s: Socket<State>, line: string) {
    const st = s.data;
    if (st.data) {
      if (line !== ".") return void st.data.push(line.startsWith("..") ? line.slice(1) : line);
      this.mails.push({ from: st.from, to: st.to, data: st.data.join("\r\n"), at: Date.now() });
      Object.assign(st, { from: "", to: [], data: null });
      return void s.write("250 2.0.0 queued\r\n");
    }
    const verb = line.slice(0, 4).toUpperCase();
    if (verb === "EHLO") s.write("250-sink\r\n250 8BITMIME\r\n");
    else if (verb === "HELO") s.write("250 sink\r\n");
    else if (verb === "MAIL") (st.from = /<([^>]*)>/.exec(line)?.[1] ?? ""), s.write("250 2.1.0 ok\r\n");
    else if (verb === "RCPT") st.to.push(/<([^>]*)>/.exec(line)?.[1] ?? ""), s.write("250 2.1.5 ok\r\n");
    else if (verb === "DATA") (st.data = []), s.write("354 end with <CRLF>.<CRLF>\r\n");
    else if (verb === "RSET") Object.assign(st, { from: "", to: [], data: null }), s.write("250 ok\r\n");
    else if (verb === "NOOP") s.write("250 ok\r\n");
    else if (verb === "QUIT") s.write("221 bye\r\n"), s.end();
    else s.write("502 5.5.2 not implemented\r\n");
  }

  /** Mails to `address` (the envelope recipient). */
  to(address: string): Mail[] {
    return this.mails.filter((m) => m.to.includes(address));
  }

  stop() {
    this.server.stop(true);
  }
}
