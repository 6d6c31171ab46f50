// A Worker that dies on its first message: by an uncaught error, or by exiting.
export {};
declare const self: Worker;
self.addEventListener("message", (ev: MessageEvent<{ op: string; sql?: string }>) => {
  if (ev.data.sql === "exit") process.exit(3);
  throw new Error("worker crashed on purpose");
});
