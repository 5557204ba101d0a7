// Does the `tail` package (2.2.6) lose lines on rotation with its best options? And how does our
// FileSource do on the same writer? Also measures FileSource's write-to-delivery latency.
// Not part of the test suite. Run: tsc, then `node <outDir>/bench/tail-rotation.bench.js`.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileSource } from '../src/sources/index.js';
import { seqOf, spawnWriter, type WriterPlan } from '../test/sources/rotating-writer.js';

interface TailInstance {
  on(event: 'line', fn: (line: string) => void): void;
  on(event: 'error', fn: (err: unknown) => void): void;
  unwatch(): void;
}
type TailCtor = new (file: string, opts: Record<string, unknown>) => TailInstance;
const { Tail } = createRequire(import.meta.url)('tail') as { Tail: TailCtor };

const LINES = 6000;
const BASE: WriterPlan = {
  path: '',
  lines: LINES,
  mode: 'rename',
  rotateEvery: 1000,
  linger: 30,
  createEmpty: false,
  gap: 0,
  burst: 10,
  splitEvery: 7,
};
const SCENARIOS: { name: string; plan: Partial<WriterPlan> }[] = [
  { name: 'rename (postfix logrotate)', plan: { mode: 'rename', createEmpty: false } },
  { name: 'rename + create (logrotate create)', plan: { mode: 'rename', createEmpty: true } },
  { name: 'copytruncate', plan: { mode: 'copytruncate', linger: 0, gap: 5 } },
];

interface Reader {
  readonly name: string;
  start(file: string, onLine: (text: string) => void): () => Promise<void>;
}

const tailReader = (name: string, opts: Record<string, unknown>): Reader => ({
  name,
  start(file, onLine) {
    const t = new Tail(file, { fromBeginning: true, follow: true, ...opts });
    t.on('line', onLine);
    t.on('error', () => undefined);
    return async () => t.unwatch();
  },
});

const pbanReader: Reader = {
  name: 'pban FileSource',
  start(file, onLine) {
    const ac = new AbortController();
    const done = (async () => {
      for await (const b of new FileSource({ sourceId: 'file', paths: [file] }).follow(ac.signal)) {
        for (const l of b.lines) onLine(l.text);
      }
    })();
    return async () => {
      ac.abort();
      await done;
    };
  },
};

const READERS: Reader[] = [
  tailReader('tail fs.watch', { useWatchFile: false }),
  tailReader('tail watchFile 100ms', { useWatchFile: true, fsWatchOptions: { interval: 100 } }),
  pbanReader,
];

/** Lines kept on disk by the rotation (all files): what a follower can possibly deliver. */
function kept(dir: string): Set<number> {
  const s = new Set<number>();
  for (const name of readdirSync(dir))
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n').slice(0, -1)) if (seqOf(line) >= 0) s.add(seqOf(line));
  return s;
}

async function run(reader: Reader, scenario: { name: string; plan: Partial<WriterPlan> }): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pban-tail-bench-'));
  const file = path.join(dir, 'mail.log');
  writeFileSync(file, '');
  const got: number[] = [];
  let garbled = 0;
  let last = performance.now();
  const stop = reader.start(file, (text) => {
    last = performance.now();
    const s = seqOf(text);
    if (s < 0 || !text.startsWith('Nov 27 ')) garbled++;
    else got.push(s);
  });
  const summary = await spawnWriter({ ...BASE, ...scenario.plan, path: file });
  const expected = kept(dir);
  const deadline = performance.now() + 15_000;
  // Done when everything expected arrived, or nothing arrived for 3 s (tail re-watches after 1 s).
  while (performance.now() < deadline && performance.now() - last < 3000 && got.length < expected.size) await sleep(50);
  await sleep(300);
  await stop();
  rmSync(dir, { recursive: true, force: true });
  const unique = new Set(got);
  const missing = [...expected].filter((s) => !unique.has(s)).length;
  return `${reader.name.padEnd(22)} ${scenario.name.padEnd(36)} written ${summary.written}, on disk ${expected.size}, delivered ${got.length}, missing ${missing}, duplicates ${got.length - unique.size}, garbled ${garbled}`;
}

// A writer in another process stamps each line with its wall-clock write time (ms, µs precision).
const LATENCY_WRITER = `
const fs = require('node:fs');
const [file, n] = process.argv.slice(1);
const fd = fs.openSync(file, 'a');
let i = 0;
const tick = () => {
  const t = performance.timeOrigin + performance.now();
  fs.writeSync(fd, 'Nov 27 18:00:00 mail postfix/smtpd[1]: t=' + t.toFixed(3) + ' warning: unknown[192.0.2.1]: SASL LOGIN authentication failed\\n');
  if (++i < Number(n)) setTimeout(tick, 20); else fs.closeSync(fd);
};
setTimeout(tick, 200);
`;

/** Write-to-delivery latency of FileSource: single lines written by another process, 20 ms apart. */
async function latency(samples: number): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pban-tail-bench-'));
  const file = path.join(dir, 'mail.log');
  writeFileSync(file, '');
  const ac = new AbortController();
  const lat: number[] = [];
  const done = (async () => {
    for await (const b of new FileSource({ sourceId: 'file', paths: [file] }).follow(ac.signal)) {
      const now = performance.timeOrigin + performance.now();
      for (const l of b.lines) lat.push(now - Number(/ t=([\d.]+) /.exec(l.text)?.[1]));
      if (lat.length >= samples) ac.abort();
    }
  })();
  const child = execFile(process.execPath, ['-e', LATENCY_WRITER, file, String(samples)]);
  const timeout = setTimeout(() => ac.abort(), 30_000);
  await done;
  clearTimeout(timeout);
  child.kill();
  rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  const q = (p: number): string => (lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN).toFixed(2);
  return `pban FileSource latency, ${lat.length}/${samples} lines written by another process 20 ms apart: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`;
}

console.log(`node ${process.version}, ${LINES} lines per run, rotation every 1000 lines, bursts of 10 lines per ms, every 7th line written in two parts`);
for (const scenario of SCENARIOS) for (const reader of READERS) console.log(await run(reader, scenario));
console.log(await latency(500));
