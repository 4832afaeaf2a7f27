// What the kernel says a process has spent: CPU time from /proc/<pid>/stat (utime + stime, all of
// its threads, so libSQL's and libuv's worker threads count; not its children), resident memory
// from /proc/<pid>/status, and the process's descendants, so that a proxy's own CPU can be told
// apart from the CPU of the upstream server it spawned. Linux only, like the figures it serves.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

// The command name (field 2) may hold spaces and parentheses; the fields after it are counted
// from the last ')'.
function statFields(path) {
  const text = readFileSync(`/proc/${path}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

// After the command name: state(0) ppid(1) ... utime(11) stime(12).
const cpuOfStat = (fields) => (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;

/** CPU seconds (user + system) `pid` has used so far; 0 once it has gone. */
export function cpuSeconds(pid) {
  try {
    return cpuOfStat(statFields(pid));
  } catch {
    return 0;
  }
}

/** CPU seconds per thread of `pid`: `{ main, others }` (the main thread's id is the pid). */
export function threadCpuSeconds(pid) {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let cpu;
    try {
      cpu = cpuOfStat(statFields(`${pid}/task/${tid}`));
    } catch {
      continue; // the thread ended while we looked
    }
    if (Number(tid) === pid) main += cpu;
    else others += cpu;
  }
  return { main, others };
}

/** Total CPU seconds of a set of processes. */
export function cpuSecondsOf(pids) {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** Resident set size of `pid` in bytes (VmRSS), or undefined once it has gone. */
export function residentBytes(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Every live process below `pid` (children, their children, ...). */
export function descendants(pid) {
  const childrenOf = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let parent;
    try {
      parent = Number(statFields(name)[1]);
    } catch {
      continue; // it exited while we looked
    }
    const siblings = childrenOf.get(parent) ?? [];
    siblings.push(Number(name));
    childrenOf.set(parent, siblings);
  }
  const found = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of childrenOf.get(queue.shift()) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
