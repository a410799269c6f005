import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const SERVER_CONTROL = /\b(stopRabbit|startRabbit|stopRedis|startRedis|rabbitmqctl|redis-cli[^'"]*shutdown|mariadbd|systemctl|start-stop-daemon)\b/;
/** A fixed pause: tests wait for a condition (test/support/wait.ts), or name the time that is the behaviour. */
const FIXED_PAUSE = /node:timers\/promises|\bsleep\(|setTimeout\(\s*(r|res|resolve|done)\s*,|new Promise\(\s*\(?\s*(r|res|resolve|done)\s*\)?\s*=>\s*setTimeout\b/;
/** A path that leaves the repository: the suite must run from a checkout alone. */
const OUTSIDE = /\.\.\/\.\.\/\.\.|\.\.\/shared\b|\/work\/|api-contract\.md/;

function filesUnder(dir: string, wanted: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : filesUnder(full, wanted);
    return wanted(entry.name) ? [full] : [];
  });
}

/** Every file of the test suite `npm test` runs: each package's test/ and the repository's own checks. */
function suiteFiles(wanted: (name: string) => boolean): string[] {
  const packages = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules' && d.name !== 'test');
  const dirs = [...packages.map((p) => path.join(root, p.name, 'test')), path.join(root, 'test', 'repository')];
  return dirs.flatMap((dir) => {
    try {
      return filesUnder(dir, wanted);
    } catch {
      return [];
    }
  });
}

const offenders = (files: string[], pattern: RegExp): string[] => files.filter((f) => f !== __filename && pattern.test(readFileSync(f, 'utf8'))).map((f) => path.relative(root, f));

test('no test that `npm test` runs stops, starts or reconfigures a shared server (those are drills: test:faults)', () => {
  const files = suiteFiles((name) => name.endsWith('.test.ts'));
  expect(files.length).toBeGreaterThan(10);
  expect(offenders(files, SERVER_CONTROL)).toEqual([]);
});

test('no test sleeps a fixed time and then asserts: each waits for its condition', () => {
  const drillsAndSupport = ['faults', 'cluster', 'support'].flatMap((dir) => filesUnder(path.join(root, 'test', dir), (name) => name.endsWith('.ts')));
  const files = [...suiteFiles((name) => name.endsWith('.ts')), ...drillsAndSupport].filter((f) => f !== path.join(root, 'test', 'support', 'wait.ts'));
  expect(files.length).toBeGreaterThan(10);
  expect(offenders(files, FIXED_PAUSE)).toEqual([]);
});

test('nothing in the test suite reads outside the repository', () => {
  const files = [...suiteFiles((name) => name.endsWith('.ts')), ...filesUnder(path.join(root, 'test'), (name) => name.endsWith('.ts'))];
  expect(offenders(files, OUTSIDE)).toEqual([]);
});
