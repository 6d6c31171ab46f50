/** What /proc says about processes and the machine: CPU time, RSS, busy ticks. */
import { readdirSync, readFileSync } from "node:fs";

const CLK_TCK = 100;

/** CPU seconds (user + system) a process used so far; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

export function rssKB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Proportional set size: RSS with each shared page divided among the processes mapping it. Summed
 * over a server and its child processes (the same `bun` executable, whose mapped pages they share)
 * it is what the machine holds for them; a sum of RSS counts those shared pages once per process.
 */
export function pssKB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Busy fraction of the whole machine between two samples of /proc/stat. */
export function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3]! + (cpu[4] ?? 0);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/** Pids whose command name is `comm` (e.g. every PostgreSQL backend). */
export function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() === comm) out.push(Number(d));
    } catch {}
  }
  return out;
}

/** CPU seconds of a process group since `start` (pid -> seconds then): backends that exited meanwhile are left out, new ones count from zero. */
function groupDelta(comm: string, start: Map<number, number>): number {
  let sum = 0;
  for (const pid of pidsNamed(comm)) {
    const now = cpuSeconds(pid);
    if (now > 0) sum += now - (start.get(pid) ?? 0);
  }
  return sum;
}

/**
 * CPU use of named processes between start and stop, in % of one core, plus
 * every PostgreSQL backend together, the whole machine, and `others`: what
 * processes outside the bench used (on a shared machine, the noise);
 * `ms`: the length of the window.
 */
export function cpuMeter(pids: Record<string, number>) {
  const t0 = performance.now();
  const m0 = machineTicks();
  const c0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const pg0 = new Map(pidsNamed("postgres").map((pid) => [pid, cpuSeconds(pid)] as const));
  return () => {
    const secs = (performance.now() - t0) / 1000;
    const m1 = machineTicks();
    const pct = (s: number) => Math.round((s / secs) * 100);
    const out: Record<string, number> = {};
    for (const [k, pid] of Object.entries(pids)) out[k] = pct(cpuSeconds(pid) - c0[k]!);
    out.postgres = pct(groupDelta("postgres", pg0));
    const ours = Object.values(out).reduce((a, b) => a + b, 0);
    out.machine = Math.round(((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * 100 * navigator.hardwareConcurrency);
    out.others = Math.max(0, out.machine - ours);
    out.ms = Math.round(secs * 1000);
    return out;
  };
}
