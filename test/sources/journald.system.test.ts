// The journald source against real journal files written by systemd-journal-remote and read by
// the real journalctl: delivery once and in order while appending, exact resume from a cursor,
// matches, non-UTF-8 messages, a missing or crashing journalctl.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SourcePosition } from '../../src/events.js';
import { createLogger } from '../../src/log.js';
import {
  JournalSource, checkJournalMatches, cursorOf, formatMicros, journalPosition, parseEntry,
  type JournalBatch, type JournalSourceOptions,
} from '../../src/sources/index.js';
import { followArgs, tailArgs } from '../../src/sources/journald/args.js';
import { ensureJournalRemote, smtpd, writeJournal, type TestEntry } from './journal-writer.js';

let dir: string;
before(() => {
  ensureJournalRemote();
  dir = mkdtempSync(path.join(os.tmpdir(), 'pban-journald-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function journalFile(): string {
  return path.join(dir, `t${++n}.journal`);
}

function msgs(from: number, to: number, extra: Partial<TestEntry> = {}): TestEntry[] {
  return Array.from({ length: to - from }, (_, i) => smtpd(`line ${from + i}`, extra));
}

/** Log records, to see restarts. */
function capture(): { logger: ReturnType<typeof createLogger>; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', pretty: false, destination: { write: (s: string) => void records.push(JSON.parse(s) as Record<string, unknown>) } });
  return { logger, records };
}

interface Following {
  readonly batches: JournalBatch[];
  readonly texts: string[];
  readonly abort: AbortController;
  readonly done: Promise<void>;
  /** The last position the consumer committed. */
  position(): SourcePosition | null;
}

/** Consumes the source; `accept` returning false means "crash before committing this batch". */
function follow(source: JournalSource, accept: (b: JournalBatch) => boolean = () => true): Following {
  const abort = new AbortController();
  const batches: JournalBatch[] = [];
  const texts: string[] = [];
  let position: SourcePosition | null = null;
  const done = (async () => {
    for await (const b of source.follow(abort.signal)) {
      batches.push(b);
      if (!accept(b)) return;
      texts.push(...b.lines.map((l) => l.text));
      position = b.position;
    }
  })();
  return { batches, texts, abort, done, position: () => position };
}

async function until(what: string, probe: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const seq = (texts: readonly string[]): number[] => texts.map((t) => Number(/line (\d+)$/.exec(t)?.[1] ?? NaN));
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function source(file: string, extra: Partial<JournalSourceOptions> = {}): JournalSource {
  return new JournalSource({ sourceId: 'journal:test', matches: [], files: [file], restartMinMs: 50, restartMaxMs: 200, ...extra });
}

// ---- pure parts -------------------------------------------------------------------------------

test('an entry becomes a syslog-like line the filters read', () => {
  const e = parseEntry(JSON.stringify({
    __CURSOR: 's=1;i=2', __REALTIME_TIMESTAMP: '1795807160670269', _HOSTNAME: 'mx1',
    SYSLOG_IDENTIFIER: 'postfix/smtpd', _PID: '123', MESSAGE: 'warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: x',
  }), 0);
  assert.deepEqual(e, {
    cursor: 's=1;i=2',
    text: '2026-11-27T19:19:20.670269+00:00 mx1 postfix/smtpd[123]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: x',
  });
});

test('byte-array, repeated and missing fields; control characters are escaped', () => {
  const bytes = [...Buffer.from('bad '), 0xff, ...Buffer.from(' end')];
  assert.equal(parseEntry(JSON.stringify({ __CURSOR: 'c', __REALTIME_TIMESTAMP: '0', MESSAGE: bytes }), 0)?.text, '1970-01-01T00:00:00.000000+00:00 - -: bad \uFFFD end');
  assert.equal(parseEntry(JSON.stringify({ __CURSOR: 'c', __REALTIME_TIMESTAMP: '0', MESSAGE: ['first', 'second'], _COMM: 'smtpd', SYSLOG_PID: '7' }), 0)?.text, '1970-01-01T00:00:00.000000+00:00 - smtpd[7]: first');
  assert.equal(parseEntry(JSON.stringify({ __CURSOR: 'c', __REALTIME_TIMESTAMP: '0', MESSAGE: [[0x61, 0xff], 'x'] }), 0)?.text, '1970-01-01T00:00:00.000000+00:00 - -: a\uFFFD');
  // No timestamp: the time of reading stands in.
  assert.equal(parseEntry(JSON.stringify({ __CURSOR: 'c', MESSAGE: 'm', _HOSTNAME: 'h', SYSLOG_IDENTIFIER: 'i' }), 1_000)?.text, '1970-01-01T00:00:01.000000+00:00 h i: m');
  // A newline in a message cannot frame a line of its own; blanks cannot split host or tag.
  assert.equal(
    parseEntry(JSON.stringify({ __CURSOR: 'c', __REALTIME_TIMESTAMP: '0', MESSAGE: 'a\nmx1 postfix/smtpd[1]: b', SYSLOG_IDENTIFIER: 'x y', _HOSTNAME: 'h\tz' }), 0)?.text,
    '1970-01-01T00:00:00.000000+00:00 h#011z x_y: a#012mx1 postfix/smtpd[1]: b',
  );
  assert.equal(parseEntry('not json', 0), null);
  assert.equal(parseEntry('{"MESSAGE":"no cursor"}', 0), null);
  assert.equal(parseEntry('[1,2]', 0), null);
  assert.equal(formatMicros(1_000_001n), '1970-01-01T00:00:01.000001+00:00');
});

test('journalctl arguments: one argument per value, matches after "--", start points', () => {
  const sel = { matches: ['_SYSTEMD_UNIT=postfix@-.service', '+', 'SYSLOG_IDENTIFIER=postfix/smtpd'], directory: '/var/log/journal/remote' };
  const a = followArgs(sel, { type: 'cursor', cursor: 's=1;i=2' });
  assert.equal(a[0], '--follow');
  assert.ok(a.includes('--after-cursor=s=1;i=2'));
  assert.ok(a.includes('--directory=/var/log/journal/remote'));
  assert.deepEqual(a.slice(a.indexOf('--')), ['--', ...sel.matches]);
  assert.ok(followArgs(sel, { type: 'since', sinceMs: 1_700_000_000_999 }).includes('--since=@1700000000'));
  // Without --no-tail, --follow shows only 10 old entries, also after a cursor.
  for (const from of [{ type: 'all' }, { type: 'cursor', cursor: 'c' }, { type: 'since', sinceMs: 0 }] as const) {
    assert.ok(followArgs(sel, from).includes('--no-tail'));
  }
  assert.ok(tailArgs(sel).includes('--lines=1') && !tailArgs(sel).includes('--follow'));
});

test('match lists: FIELD=value and "+" between matches only', () => {
  assert.equal(checkJournalMatches(['_SYSTEMD_UNIT=postfix@-.service', '+', 'SYSLOG_FACILITY=2']), undefined);
  assert.equal(checkJournalMatches(['+', 'A=1'])?.index, 0);
  assert.equal(checkJournalMatches(['A=1', '+'])?.index, 1);
  assert.equal(checkJournalMatches(['A=1', '+', '+', 'B=2'])?.index, 2);
  assert.match(checkJournalMatches(['_systemd_unit=x'])?.error ?? '', /invalid journal match "_systemd_unit=x"/);
  assert.equal(checkJournalMatches(['--since=yesterday'])?.index, 0);
  assert.equal(checkJournalMatches(['1A=x'])?.index, 0);
});

test('positions hold the cursor', () => {
  const p = journalPosition('journal:x', 's=a;i=1');
  assert.deepEqual(p, { sourceId: 'journal:x', path: 'journal', inode: 0, offset: 0, firstLineHash: 's=a;i=1' });
  assert.equal(cursorOf(p), 's=a;i=1');
  assert.equal(cursorOf({ ...p, path: '/var/log/mail.log' }), null);
  assert.equal(cursorOf(null), null);
});

// ---- against real journal files ---------------------------------------------------------------

test('entries appended while following are delivered once, in order', async () => {
  const file = journalFile();
  writeJournal(file, msgs(0, 5));
  const f = follow(source(file, { start: 'beginning' }));
  await until('the first 5', () => f.texts.length >= 5);
  for (let i = 5; i < 60; i += 11) writeJournal(file, msgs(i, Math.min(i + 11, 60)));
  await until('all 60', () => f.texts.length >= 60);
  await sleep(300); // nothing more may come
  f.abort.abort();
  await f.done;
  assert.deepEqual(seq(f.texts), range(0, 60));
  assert.match(f.texts[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 mx1 postfix\/smtpd\[4242\]: line 0$/);
  assert.equal(cursorOf(f.position()), cursorOf(f.batches.at(-1)!.position));
});

test('a restart from the stored cursor delivers exactly the rest', async () => {
  const file = journalFile();
  writeJournal(file, msgs(0, 30));
  // First run: commits 12 lines' worth of batches, then "crashes" on the next batch with lines.
  let committed = 0;
  const first = follow(source(file, { start: 'beginning' }), (b) => {
    if (committed >= 12 && b.lines.length > 0) return false;
    committed += b.lines.length;
    return true;
  });
  // The 30 may come in one batch: more entries make sure a batch comes after the 12th line.
  await until('12 lines committed', () => committed >= 12);
  writeJournal(file, msgs(30, 40));
  await first.done;
  const stored = first.position();
  assert.ok(stored !== null && cursorOf(stored) !== null);
  assert.ok(first.texts.length < 40);
  const second = follow(source(file, { position: stored }));
  await until('the rest', () => first.texts.length + second.texts.length >= 40);
  await sleep(300);
  second.abort.abort();
  await second.done;
  assert.deepEqual(seq([...first.texts, ...second.texts]), range(0, 40));
});

test('start "end" skips what is there and fixes the start at once; a match selects the unit', async () => {
  const file = journalFile();
  writeJournal(file, [...msgs(0, 3), smtpd('other 1', { unit: 'cron.service', identifier: 'CRON' })]);
  const src = source(file, { matches: ['_SYSTEMD_UNIT=postfix@-.service'] });
  const f = follow(src);
  await src.ready;
  // The start point is a committed position already, before any new entry.
  await until('the start position', () => f.position() !== null);
  writeJournal(file, [smtpd('other 2', { unit: 'cron.service', identifier: 'CRON' }), ...msgs(3, 6), smtpd('other 3', { unit: 'ssh.service' })]);
  await until('3 new lines', () => f.texts.length >= 3);
  await sleep(300);
  f.abort.abort();
  await f.done;
  assert.deepEqual(seq(f.texts), [3, 4, 5]);
});

test('"+" is OR between matches', async () => {
  const file = journalFile();
  writeJournal(file, [smtpd('line 0'), smtpd('line 1', { unit: 'ssh.service', identifier: 'sshd' }), smtpd('line 2', { unit: 'cron.service' })]);
  const f = follow(source(file, { start: 'beginning', matches: ['_SYSTEMD_UNIT=postfix@-.service', '+', 'SYSLOG_IDENTIFIER=sshd'] }));
  await until('2 lines', () => f.texts.length >= 2);
  await sleep(300);
  f.abort.abort();
  await f.done;
  assert.deepEqual(seq(f.texts), [0, 1]);
});

test('a MESSAGE that is not UTF-8 arrives as text with U+FFFD', async () => {
  const file = journalFile();
  writeJournal(file, [smtpd(Buffer.concat([Buffer.from('warning: unknown[192.0.2.7]: '), Buffer.from([0xff, 0xfe]), Buffer.from(' x')]))]);
  const f = follow(source(file, { start: 'beginning' }));
  await until('1 line', () => f.texts.length >= 1);
  f.abort.abort();
  await f.done;
  assert.match(f.texts[0]!, / mx1 postfix\/smtpd\[4242\]: warning: unknown\[192\.0\.2\.7\]: \uFFFD\uFFFD x$/);
});

test('a journalctl that is killed is run again from the last cursor: nothing lost, nothing twice', async () => {
  const file = journalFile();
  writeJournal(file, msgs(0, 10));
  const { logger, records } = capture();
  const src = source(file, { start: 'beginning', logger });
  const f = follow(src);
  await until('10 lines', () => f.texts.length >= 10);
  const pid1 = src.pid;
  assert.ok(pid1 !== undefined);
  process.kill(pid1, 'SIGKILL');
  await until('a new journalctl', () => src.pid !== undefined && src.pid !== pid1);
  writeJournal(file, msgs(10, 40));
  await until('40 lines', () => f.texts.length >= 40);
  await sleep(300);
  f.abort.abort();
  await f.done;
  assert.deepEqual(seq(f.texts), range(0, 40));
  assert.ok(records.some((r) => r['msg'] === 'source.journalctlExited' && r['signal'] === 'SIGKILL'), 'the exit is logged');
  assert.ok(src.stats.restarts >= 1);
});

test('a missing journalctl is retried and logged, never fatal; abort ends it', async () => {
  const { logger, records } = capture();
  const src = source(journalFile(), { journalctl: path.join(dir, 'no-such-journalctl'), logger });
  const f = follow(src);
  await src.ready; // the daemon can start anyway
  await until('two retries', () => records.filter((r) => r['msg'] === 'source.journalUnreadable').length >= 2);
  f.abort.abort();
  await f.done;
  assert.match(String(records[0]?.['err']), /ENOENT/);
});

test('a journalctl that dies at once is restarted with growing pauses; abort kills the running one', async () => {
  // A stand-in that fails twice, then runs the real journalctl: the source must keep going.
  const counter = path.join(dir, 'runs');
  writeFileSync(counter, '');
  const wrapper = path.join(dir, 'flaky-journalctl');
  writeFileSync(wrapper, `#!/bin/sh\necho x >> '${counter}'\n[ "$(wc -l < '${counter}')" -le 3 ] && { echo "simulated crash" >&2; exit 3; }\nexec journalctl "$@"\n`);
  chmodSync(wrapper, 0o755);
  const file = journalFile();
  writeJournal(file, msgs(0, 4));
  const { logger, records } = capture();
  const src = source(file, { start: 'beginning', journalctl: wrapper, logger });
  const f = follow(src);
  await until('4 lines', () => f.texts.length >= 4);
  const pid = src.pid;
  assert.ok(pid !== undefined);
  f.abort.abort();
  await f.done;
  assert.deepEqual(seq(f.texts), range(0, 4));
  assert.ok(records.some((r) => r['msg'] === 'source.journalctlExited' && r['exitCode'] === 3 && String(r['stderr']).includes('simulated crash')));
  await until('journalctl ended', () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 5000);
});

test('back-pressure: while the consumer holds a batch, nothing more is read', async () => {
  const file = journalFile();
  writeJournal(file, msgs(0, 2000));
  const src = source(file, { start: 'beginning' });
  const abort = new AbortController();
  const it = src.follow(abort.signal);
  // Hold the first batch: do not ask for the next one for a while.
  const first = await it.next();
  assert.ok(!first.done);
  const readSoFar = src.stats.lines;
  await sleep(500);
  assert.equal(src.stats.lines, readSoFar, 'no batch is made while the consumer holds one');
  assert.ok(readSoFar < 2000);
  abort.abort();
  let rest = 0;
  for (let r = await it.next(); !r.done; r = await it.next()) rest += r.value.lines.length;
  assert.ok(rest >= 0);
});

test('a stored cursor journalctl refuses is logged and dropped: the start policy applies', async () => {
  const file = journalFile();
  writeJournal(file, msgs(0, 3));
  const { logger, records } = capture();
  const f = follow(source(file, { start: 'beginning', logger, position: journalPosition('journal:test', 'not-a-cursor') }));
  await until('3 lines', () => f.texts.length >= 3);
  f.abort.abort();
  await f.done;
  assert.deepEqual(seq(f.texts), [0, 1, 2]);
  assert.ok(records.some((r) => r['msg'] === 'source.journalBadCursor'));
});
