/**
 * The kernel's only output channel. It imports no logging library (the kernel
 * stays dependency-free); the composition root plugs pino in with
 * `setKernelLogger`. Until then lines go to stderr, except under
 * LOG_LEVEL=silent (the test preload) so crash tests do not flood the output.
 */

export type KernelLogger = (message: string, error?: unknown) => void;

const stderrLogger: KernelLogger = (message, error) => {
  if (process.env.LOG_LEVEL === "silent") return;
  if (error === undefined) console.error(message);
  else console.error(message, error);
};

let current: KernelLogger = stderrLogger;

export function setKernelLogger(logger: KernelLogger | undefined): void {
  current = logger ?? stderrLogger;
}

/** Never throws: a broken logger must not turn a handled failure into a new one. */
export function kernelLog(message: string, error?: unknown): void {
  try {
    current(message, error);
  } catch {
    // nothing sensible left to do
  }
}
