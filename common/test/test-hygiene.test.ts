import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const SERVER_CONTROL = /\b(stopRabbit|startRabbit|stopRedis|startRedis|rabbitmqctl|redis-cli[^'"]*shutdown|mariadbd|systemctl|start-stop-daemon)\b/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : testFiles(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

test('no test that `npm test` runs stops, starts or reconfigures a shared server (those are drills: test:faults)', () => {
  const workspaces = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules' && d.name !== 'test');
  const files = workspaces.flatMap((w) => {
    try {
      return testFiles(path.join(root, w.name, 'test'));
    } catch {
      return [];
    }
  });
  expect(files.length).toBeGreaterThan(10);
  const offenders = files.filter((f) => f !== __filename && SERVER_CONTROL.test(readFileSync(f, 'utf8'))).map((f) => path.relative(root, f));
  expect(offenders).toEqual([]);
});
