// The storefront's build: one minified ES module (dist/app.js), one stylesheet (dist/app.css), both
// with source maps, and index.html. `node build.mjs --watch` rebuilds on every change.
// Type checking is tsc's job (`npm run typecheck`); esbuild only strips the types.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').BuildOptions} */
const options = {
  absWorkingDir: here,
  entryPoints: [
    { in: 'src/main.tsx', out: 'app' },
    { in: 'src/styles.css', out: 'app' },
  ],
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // What every browser of the last few years runs natively: no down-levelling, no polyfills.
  target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: !watch,
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
};

/** Only the storefront's own sources and Preact may be in the bundle: nothing from the server (types are erased). */
function checkInputs(metafile) {
  const foreign = Object.keys(metafile.inputs).filter((input) => !input.startsWith('src/') && !/(^|\/)node_modules\/preact\//.test(input));
  if (foreign.length > 0) throw new Error(`The bundle must hold only storefront/src and preact, but it holds: ${foreign.join(', ')}`);
  for (const [file, output] of Object.entries(metafile.outputs)) {
    const nodeImports = output.imports.filter((i) => i.path.startsWith('node:') || i.external);
    if (nodeImports.length > 0) throw new Error(`${file} imports ${nodeImports.map((i) => i.path).join(', ')}: the browser has no such module`);
  }
}

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await copyFile(join(here, 'index.html'), join(dist, 'index.html'));

if (watch) {
  const context = await esbuild.context({
    ...options,
    plugins: [{ name: 'report', setup: (b) => b.onEnd((r) => r.errors.length === 0 && console.log(`storefront rebuilt (${new Date().toLocaleTimeString()})`)) }],
  });
  await context.watch();
  console.log(`Watching ${relative(process.cwd(), join(here, 'src')) || 'src'}; the gateway serves the new files on the next reload.`);
} else {
  const result = await esbuild.build(options);
  checkInputs(result.metafile);
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([file]) => !file.endsWith('.map'))
    .map(([file, { bytes }]) => `${relative(here, join(here, file)).replace(/^.*dist\//, '')} ${(bytes / 1024).toFixed(1)} kB`);
  console.log(`storefront built: ${sizes.join(', ')}`);
}
