/**
 * How one conversation event reaches this instance's sockets (the delivery
 * the conversation actor calls, one event at a time, in order): typing and
 * presence skip their own user; a sender's own message was already its
 * reply; message frames go through the socket's replay gate; presence heard
 * on several shared conversations reaches a socket once.
 */
import type { Connection } from "./connection";

type Parsed = { type: string; user_id?: string; message?: { id: string; seq: number } };

export const socketFanOut = {
  deliver(conversationId: string, payload: string, followers: ReadonlyMap<string, Connection>) {
    const event = JSON.parse(payload) as Parsed;
    const message = event.type === "message" ? event.message : undefined;
    for (const f of followers.values()) {
      if ((event.type === "typing" || event.type === "presence") && f.userId === event.user_id) continue;
      if (message && f.consumeOwn(message.id)) continue;
      if (message) f.sendMessage(conversationId, message.seq, payload);
      else if (event.type === "presence") f.sendOnce(`presence:${event.user_id}`, payload);
      else f.sendRaw(payload);
    }
  },
};
