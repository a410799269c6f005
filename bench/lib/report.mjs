// From rounds to verdicts: the median of the rounds per side, the project ÷ baseline ratios, the
// targets (PASS/MISS, never a failed process), and the three outputs — a table on stdout,
// bench/results/<date>.json + latest.json, and latest.md for the README.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatHops } from './hops.mjs';

// No RSS target: memory is bounded by the container limit set from a soak (bench/soak.mjs), not by
// squeezing the heap until the collector dominates.
export const TARGETS = { maxP99OverP50: 3 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const sum = (xs) => xs.reduce((a, b) => a + b, 0);

function sideSummary(runs) {
  const summary = {
    reqPerSec: median(runs.map((r) => r.reqPerSec)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    errors: sum(runs.map((r) => r.errors)),
    peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
  };
  if (runs[0].listings !== undefined) {
    summary.listings = sum(runs.map((r) => r.listings));
    summary.listingsOk = sum(runs.map((r) => r.listingsOk));
    summary.created = sum(runs.map((r) => r.created));
    summary.conflicts = sum(runs.map((r) => r.conflicts));
  }
  if (runs.some((r) => r.poolRanDry)) summary.poolRanDry = true;
  return summary;
}

const check = (target, pass, actual) => ({ target, pass, actual });

function evaluate(scenario, project, ratio) {
  const checks = [];
  const { minRatio } = scenario.targets;
  if (minRatio) checks.push(check(`req/s ≥ ${minRatio}× baseline`, ratio >= minRatio, `${ratio.toFixed(2)}×`));
  const spread = project.p99 / project.p50;
  checks.push(check(`p99 ≤ ${TARGETS.maxP99OverP50}× p50`, spread <= TARGETS.maxP99OverP50, `${spread.toFixed(1)}×`));
  const wrongListings = project.listings === undefined ? 0 : project.listings - project.listingsOk;
  const errorDetail = wrongListings ? `${project.errors} errors, ${wrongListings} listings without exactly one 201` : `${project.errors}`;
  checks.push(check('zero errors', project.errors === 0 && wrongListings === 0 && !project.poolRanDry, project.poolRanDry ? `${errorDetail}, listing pool ran dry` : errorDetail));
  return checks;
}

export function summarizeScenario(scenario, rounds, { preflight = [], hops } = {}) {
  const project = sideSummary(rounds.map((r) => r.project));
  const baseline = sideSummary(rounds.map((r) => r.baseline));
  // Each round pairs a project run with the baseline run right after it: the ratio of each pair, and
  // their median, which is what the targets judge. The min–max says how far to trust it.
  const roundRatios = rounds.map((r) => r.project.reqPerSec / r.baseline.reqPerSec);
  const ratio = median(roundRatios);
  const checks = [...evaluate(scenario, project, ratio), ...preflight];
  return {
    id: scenario.id,
    title: scenario.title,
    baseline: scenario.baselineName,
    ...(scenario.note ? { note: scenario.note } : {}),
    ratio,
    p99Ratio: project.p99 / baseline.p99,
    roundRatios,
    ratioRange: [Math.min(...roundRatios), Math.max(...roundRatios)],
    medians: { project, baseline },
    checks,
    status: checks.every((c) => c.pass) ? 'PASS' : 'MISS',
    ...(hops ? { hops } : {}),
    rounds,
  };
}

// ---- rendering ---------------------------------------------------------------------------------

const num = (n) => Math.round(n).toLocaleString('en-US');
const ms = (n) => (n < 10 ? n.toFixed(1) : Math.round(n).toString());

function row(s) {
  const { project: p, baseline: b } = s.medians;
  const errors = p.listings === undefined ? `${p.errors}` : `${p.errors} (${p.listingsOk}/${p.listings} listings: one 201, rest 409)`;
  const misses = s.checks.filter((c) => !c.pass).map((c) => `${c.target} (${c.actual})`);
  return [
    s.title,
    num(p.reqPerSec),
    num(b.reqPerSec),
    `${s.ratio.toFixed(2)}× (${s.ratioRange[0].toFixed(2)}–${s.ratioRange[1].toFixed(2)})`,
    `${ms(p.p50)} ms (base ${ms(b.p50)})`,
    `${ms(p.p99)} ms (base ${ms(b.p99)})`,
    (p.p99 / p.p50).toFixed(1),
    errors,
    `${p.peakRssMb} MB (base ${b.peakRssMb})`,
    misses.length ? `MISS: ${misses.join('; ')}` : 'PASS',
  ];
}

const HEADER = ['scenario', 'project req/s', 'baseline req/s', 'ratio (min–max)', 'p50', 'p99', 'p99/p50', 'errors', 'gateway peak RSS', 'target status'];

export function textTable(summaries) {
  const rows = [HEADER, ...summaries.map(row)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** What each scenario's baseline is (the table has no room for it). */
export function baselineLegend(summaries) {
  return summaries.map((s) => `- ${s.title}: baseline ${s.baseline}${s.note ? ` (${s.note})` : ''}`).join('\n');
}

export function targetLines(summaries) {
  return summaries.flatMap((s) => s.checks.map((c) => `${c.pass ? 'PASS' : 'MISS'}  ${s.id.padEnd(15)} ${c.target.padEnd(52)} ${c.actual}`)).join('\n');
}

function markdown(report) {
  const { machine, settings } = report;
  const cell = (text) => text.replaceAll('|', '\\|');
  return [
    `Measured ${report.finishedAt.slice(0, 10)} on ${machine.cpuModel} (${machine.cores} cores, ${machine.totalMemoryGb} GB), Node ${machine.node}; ` +
      `${settings.rounds} alternating rounds of ${settings.seconds} s (after ${settings.warmupSeconds} s warm-up) with ${settings.connections} connections, median of the rounds. ` +
      `Ratio = project req/s ÷ baseline req/s of the run right after it, same machine, same run: the median of the rounds' ratios, and their min–max. bcrypt cost ${settings.bcryptRounds} (the default), rate limit lifted.`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map(() => '---').join('|')}|`,
    ...report.scenarios.map((s) => `| ${row(s).map(cell).join(' | ')} |`),
    '',
    baselineLegend(report.scenarios),
    '',
    'Targets and checks:',
    '',
    '```',
    targetLines(report.scenarios),
    '```',
    ...report.scenarios.filter((s) => s.hops).flatMap((s) => ['', formatHops(s.hops)]),
    ...(report.skipped.length ? ['', ...report.skipped.map((line) => `Skipped: ${line}`)] : []),
    '',
  ].join('\n');
}

/** Writes <ISO date>.json, latest.json and latest.md into `dir`; returns the dated file's path. */
export function writeResults(dir, report, { latest = true } = {}) {
  mkdirSync(dir, { recursive: true });
  const stamp = report.finishedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z');
  const dated = join(dir, `${stamp}${latest ? '' : '-experiment'}.json`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(dated, json);
  if (latest) {
    writeFileSync(join(dir, 'latest.json'), json);
    writeFileSync(join(dir, 'latest.md'), markdown(report));
  }
  return dated;
}
