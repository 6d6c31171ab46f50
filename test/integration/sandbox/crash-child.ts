// A sandbox child that dies on its first message: by an uncaught error, or by exiting.
process.on("message", (msg: { op: string; sql?: string }) => {
  if (msg.sql === "exit") process.exit(3);
  throw new Error("child crashed on purpose");
});
