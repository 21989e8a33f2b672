import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    return ticks / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** A process's resident memory in MB, from /proc (Linux); NaN once it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's times (100 on every mainstream kernel). */
const CLOCK_TICKS = 100;

/** Process ids whose command name is `comm` (e.g. every postgres backend), read from /proc. */
export function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * CPU used by a named set of processes between two samples: per pid, its time at the end minus its time at the
 * start (0 for a process that started meanwhile). A process that exits meanwhile is not counted.
 */
export function cpuSampler(pids: () => number[]) {
  const start = new Map(pids().map((p) => [p, cpuSeconds(p)]));
  return () => pids().reduce((s, p) => s + cpuSeconds(p) - (start.get(p) ?? 0), 0);
}
