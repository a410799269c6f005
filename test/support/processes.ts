import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { eventually } from './wait';

const ROOT = path.resolve(__dirname, '../..');

export interface ServiceProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

/** Runs a built service (`<name>/dist/main.js`) as its own process, as `npm start` and the images do. */
export function spawnService(name: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [path.join(ROOT, name, 'dist/main.js')], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

export async function waitForHttp(url: string, timeoutMs = 20_000): Promise<void> {
  // A refused connection means not up yet.
  const answers = () => fetch(url).then((res) => res.ok, () => false);
  if (!(await eventually(answers, timeoutMs, 100))) throw new Error(`${url} did not answer in time`);
}
