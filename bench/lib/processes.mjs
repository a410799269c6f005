// Child processes of the bench (the project's services, the baselines): start with a given env,
// log to a file each, wait until an HTTP readiness URL answers 200, and stop them all — SIGTERM,
// wait for the exit, SIGKILL only after a grace period. Also reads a process's resident memory.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class ProcessGroup {
  #children = [];

  constructor(logDir) {
    this.logDir = logDir;
    mkdirSync(logDir, { recursive: true });
  }

  /** Starts `node [nodeArgs] script` with `env`; its stdout and stderr go to <logDir>/<name>.log. */
  start(name, script, { env, nodeArgs = [], cwd }) {
    const logFile = join(this.logDir, `${name}.log`);
    const log = createWriteStream(logFile);
    // Own process group: a terminal's Ctrl-C reaches only the runner, which stops children in order.
    const child = spawn(process.execPath, [...nodeArgs, script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    const proc = {
      name,
      pid: child.pid,
      child,
      logFile,
      exitInfo: undefined,
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve((proc.exitInfo = { code, signal })))),
    };
    this.#children.push(proc);
    return proc;
  }

  /** Stops the given processes (default: all, newest first) and waits until each has exited. */
  async stop(procs = [...this.#children].reverse(), graceMs = 20_000) {
    const alive = procs.filter((p) => !p.exitInfo);
    for (const p of alive) p.child.kill('SIGTERM');
    const timer = setTimeout(() => alive.forEach((p) => p.exitInfo || p.child.kill('SIGKILL')), graceMs);
    await Promise.all(alive.map((p) => p.exited));
    clearTimeout(timer);
    this.#children = this.#children.filter((p) => !procs.includes(p));
  }

  /** Last resort on the runner's own exit: nothing may outlive the bench. */
  killAllNow() {
    for (const p of this.#children) if (!p.exitInfo) p.child.kill('SIGKILL');
  }
}

export function logTail(proc, lines = 15) {
  try {
    return readFileSync(proc.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls `url` until it answers 200; fails at once if `proc` exits first, or after `timeoutMs`. */
export async function waitReady(proc, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitInfo) throw new Error(`${proc.name} exited (${proc.exitInfo.signal ?? proc.exitInfo.code}) before it was ready:\n${logTail(proc)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${proc.name} was not ready at ${url} within ${timeoutMs / 1000}s:\n${logTail(proc)}`);
}

/** VmRSS and VmHWM (peak) of a process, in kB. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/**
 * Peak resident memory of `pid` while a run lasts: VmRSS sampled every 100 ms, and VmHWM after the
 * kernel's peak counter was reset at the start (writing 5 to clear_refs), whichever is higher.
 */
export function trackPeakRss(pid, everyMs = 100) {
  let hwmWasReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    hwmWasReset = false; // not allowed here: VmHWM is the lifetime peak, so the sampled VmRSS alone counts
  }
  let peakKb = 0;
  const sample = () => {
    try {
      peakKb = Math.max(peakKb, memoryOf(pid).rssKb);
    } catch {
      // the process is gone; keep what was seen
    }
  };
  sample();
  const timer = setInterval(sample, everyMs).unref();
  let result;
  return {
    /** Stops sampling and returns the peak in MB; later calls return the same value. */
    stop() {
      if (result !== undefined) return result;
      clearInterval(timer);
      sample();
      let hwmKb = 0;
      try {
        if (hwmWasReset) hwmKb = memoryOf(pid).hwmKb;
      } catch {
        // gone
      }
      result = Math.round((Math.max(peakKb, hwmKb) / 1024) * 10) / 10;
      return result;
    },
  };
}
