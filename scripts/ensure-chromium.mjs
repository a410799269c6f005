#!/usr/bin/env node
// Makes sure the browser the storefront's browser tests (and `scripts/screenshot.mjs`) drive is here:
// Debian's Chromium at /usr/bin/chromium, or the one CHROMIUM_PATH names. When Debian's is missing it is
// installed with apt-get (as root, or through `sudo -n` — never a prompt), then `chromium --version` must
// answer. playwright-core downloads no browser of its own, so nothing else would bring one. Used by `npm test`.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** The Chromium binary the browser tests launch. */
export const chromiumPath = () => process.env.CHROMIUM_PATH || DEBIAN_CHROMIUM;

const isExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** `chromium --version`'s answer ("Chromium 156.0…"), or an Error saying why there is none. */
function versionOf(path) {
  // Debian's launcher is a shell script that may complain on stderr about its own checks: only stdout
  // and the exit status say whether the browser answers.
  const run = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 60_000 });
  if (run.error) return new Error(`${path} --version could not run: ${run.error.message}`);
  const answer = run.stdout.trim();
  if (run.status !== 0 || !/chrom/i.test(answer)) {
    return new Error(`${path} --version exited ${run.status ?? run.signal}: ${(answer || run.stderr.trim()).slice(0, 500)}`);
  }
  return answer;
}

/** Runs apt-get with these arguments as root: directly when we are root, else through `sudo -n`. */
function aptGet(args) {
  // Wait for another apt/dpkg (unattended upgrades, a parallel install) instead of failing on its lock.
  const apt = ['apt-get', '-o', 'DPkg::Lock::Timeout=300', ...args];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const asRoot = process.getuid?.() === 0;
  // sudo resets the environment, so the non-interactive frontend rides along through env(1).
  const [command, commandArgs] = asRoot ? [apt[0], apt.slice(1)] : ['sudo', ['-n', 'env', 'DEBIAN_FRONTEND=noninteractive', ...apt]];
  console.log(`$ ${asRoot ? '' : 'sudo -n '}${apt.join(' ')}`);
  const run = spawnSync(command, commandArgs, { env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.error) {
    if (run.error.code === 'ENOENT') fail(asRoot ? 'apt-get is not here: this is not a Debian-like system.' : 'Not running as root, and there is no sudo to install chromium with.');
    return { ok: false, why: run.error.message };
  }
  return { ok: run.status === 0, why: `exited ${run.status ?? run.signal}` };
}

function fail(message) {
  throw new Error(`${message}\nThe browser tests need Chromium: install Debian's as root (apt-get install -y chromium), or point CHROMIUM_PATH at a Chromium binary.`);
}

function install() {
  console.log(`Chromium is not installed (${DEBIAN_CHROMIUM} is missing); installing Debian's chromium…`);
  let result = aptGet(['install', '-y', 'chromium']);
  if (!result.ok) {
    // Most often the package lists are missing or stale (a fresh machine): refresh them once and retry.
    console.log(`apt-get install ${result.why}; refreshing the package lists and trying again…`);
    const update = aptGet(['update']);
    if (!update.ok) fail(`apt-get update ${update.why} (not root, no passwordless sudo, or no route to the Debian mirrors?).`);
    result = aptGet(['install', '-y', 'chromium']);
    if (!result.ok) fail(`apt-get install -y chromium ${result.why}.`);
  }
}

export function ensureChromium() {
  const path = chromiumPath();
  if (!isExecutable(path)) {
    // A path someone chose is theirs to fix: installing Debian's package would not put a browser there.
    if (process.env.CHROMIUM_PATH) fail(`CHROMIUM_PATH=${path} is not an executable file.`);
    install();
    if (!isExecutable(path)) fail(`apt-get installed chromium, but ${path} is still missing.`);
  }
  const version = versionOf(path);
  if (version instanceof Error) fail(`Chromium at ${path} does not answer: ${version.message}`);
  console.log(`Chromium ready: ${version} (${path})`);
  return path;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    ensureChromium();
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
}
