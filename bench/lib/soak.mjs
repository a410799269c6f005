// The gateway's memory over a long cached-read run: RSS sampled every 10 s while autocannon keeps
// 50 connections busy. Bounded by design means the curve levels off: the last minute's peak is
// within 10 % of the minute before it. Its peak sets the k8s memory request and limit.
import autocannon from 'autocannon';
import { rotatePaths } from './load.mjs';
import { memoryOf } from './processes.mjs';

const SAMPLE_MS = 10_000;

export async function soak({ target, paths, seconds, connections, log }) {
  const samples = [];
  const started = Date.now();
  const sample = () => {
    try {
      samples.push({ s: Math.round((Date.now() - started) / 1000), rssMb: Math.round(memoryOf(target.proc.pid).rssKb / 102.4) / 10 });
      log(`  ${samples.at(-1).s} s: RSS ${samples.at(-1).rssMb} MB`);
    } catch {
      // the process is gone: the run reports what it saw
    }
  };
  sample();
  const timer = setInterval(sample, SAMPLE_MS);
  const result = await new Promise((resolve, reject) => {
    autocannon({ url: target.url, connections, duration: seconds, requests: [{ method: 'GET', setupRequest: rotatePaths(paths) }] }, (err, res) => (err ? reject(err) : resolve(res)));
  }).finally(() => clearInterval(timer));
  sample();
  const window = (from, to) => samples.filter((x) => x.s > from && x.s <= to).map((x) => x.rssMb);
  const end = samples.at(-1).s;
  const last = Math.max(...window(end - 60, end));
  const before = Math.max(...window(end - 120, end - 60));
  return {
    seconds,
    connections,
    reqPerSec: result.requests.average,
    errors: result.errors + result.timeouts + result.non2xx,
    samples,
    peakRssMb: Math.max(...samples.map((x) => x.rssMb)),
    lastMinutePeakMb: last,
    minuteBeforePeakMb: before,
    levelsOff: last <= before * 1.1,
  };
}

export function formatSoak(r) {
  return [
    `Soak: ${r.seconds} s of cached reads, ${r.connections} connections, ${Math.round(r.reqPerSec).toLocaleString('en-US')} req/s, ${r.errors} errors.`,
    `Gateway RSS every 10 s (MB): ${r.samples.map((x) => x.rssMb).join(', ')}.`,
    `Peak ${r.peakRssMb} MB; last minute's peak ${r.lastMinutePeakMb} MB vs ${r.minuteBeforePeakMb} MB the minute before: ${r.levelsOff ? 'levels off' : 'STILL GROWING'}.`,
  ].join('\n');
}
