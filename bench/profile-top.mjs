#!/usr/bin/env node
// Where a process spent its CPU: reads a V8 .cpuprofile (from `node --cpu-prof`, which
// `BENCH_PROFILE=1 npm run bench` puts on both gateways) and prints the top functions by self time
// and the self time per owner (a package in node_modules, Node's internals, our api-gateway/common).
//
//   node bench/profile-top.mjs <file.cpuprofile> [how many, default 25]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

/** Who a function belongs to, from its script URL. */
export function ownerOf(url) {
  if (!url) return '(native/V8)';
  if (url.startsWith('node:')) return 'node internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const ours = /\/(api-gateway|common|users-service|listings-service|orders-service|payments-service)\/(?:dist|src)\//.exec(url);
  return ours ? `OUR ${ours[1]}` : url;
}

const shortUrl = (url) => (url ? url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(api-gateway|common)\//, '$1/') : '');

/** Self time (µs) per profile node, from the samples and their time deltas. */
function selfTimes(profile) {
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  return self;
}

export function analyse(profile) {
  const self = selfTimes(profile);
  const byFunction = new Map();
  const byOwner = new Map();
  let busy = 0;
  const special = new Map();
  for (const node of profile.nodes) {
    const t = self.get(node.id) ?? 0;
    if (!t) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (IDLE.has(functionName)) {
      special.set(functionName, (special.get(functionName) ?? 0) + t);
      if (functionName !== '(garbage collector)') continue;
    }
    busy += t;
    const key = `${functionName || '(anonymous)'}  ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + t);
    const owner = functionName === '(garbage collector)' ? '(garbage collector)' : ownerOf(url);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + t);
  }
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000, share: us / busy }));
  return { busyMs: busy / 1000, special: Object.fromEntries([...special].map(([k, v]) => [k, v / 1000])), functions: sorted(byFunction), owners: sorted(byOwner) };
}

export function formatAnalysis(a, top = 25) {
  const pct = (x) => `${(x * 100).toFixed(1).padStart(5)}%`;
  return [
    `busy ${Math.round(a.busyMs)} ms (idle ${Math.round(a.special['(idle)'] ?? 0)} ms, program ${Math.round(a.special['(program)'] ?? 0)} ms, GC ${Math.round(a.special['(garbage collector)'] ?? 0)} ms)`,
    'self time by owner:',
    ...a.owners.slice(0, 15).map((o) => `  ${pct(o.share)}  ${o.name}`),
    `top ${top} functions by self time:`,
    ...a.functions.slice(0, top).map((f) => `  ${pct(f.share)}  ${f.name}`),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top = '25'] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/profile-top.mjs <file.cpuprofile> [how many]');
    process.exit(1);
  }
  console.log(formatAnalysis(analyse(JSON.parse(readFileSync(file, 'utf8'))), Number(top)));
}
