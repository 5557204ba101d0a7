// Log formats: the pure decision and line formatting, then the real daemon writing text and
// JSON to stderr, with and without a journal stream (JOURNAL_STREAM naming its stderr).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chooseLogOutput, createLogger, formatStream, isJournalStream, syslogPriority, textLine } from '../../src/log.js';
import { PBAN_BIN } from '../helpers/run-cli.js';

let root: string;
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-log-test-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

test('the format: the config decides; unset, a terminal gets text and anything else JSON; the journal gets priorities and no time', () => {
  assert.deepEqual(chooseLogOutput({ format: undefined, stderrIsTTY: true, journal: false }), { format: 'text', priorityPrefix: false, time: true });
  assert.deepEqual(chooseLogOutput({ format: undefined, stderrIsTTY: false, journal: false }), { format: 'json', priorityPrefix: false, time: true });
  assert.deepEqual(chooseLogOutput({ format: 'json', stderrIsTTY: true, journal: false }), { format: 'json', priorityPrefix: false, time: true });
  assert.deepEqual(chooseLogOutput({ format: 'text', stderrIsTTY: false, journal: true }), { format: 'text', priorityPrefix: true, time: false });
  assert.deepEqual(chooseLogOutput({ format: undefined, stderrIsTTY: false, journal: true }), { format: 'json', priorityPrefix: true, time: false });
});

test('JOURNAL_STREAM counts only when it names our stderr', () => {
  const st = { dev: 64769n, ino: 123456789n };
  assert.equal(isJournalStream('64769:123456789', st), true);
  assert.equal(isJournalStream('64769:123456780', st), false);
  assert.equal(isJournalStream(undefined, st), false);
  assert.equal(isJournalStream('garbage', st), false);
  assert.equal(isJournalStream('64769:123456789', null), false);
});

test('syslog priorities follow pino levels', () => {
  assert.deepEqual([10, 20, 30, 40, 50, 60].map(syslogPriority), [7, 7, 6, 4, 3, 2]);
});

test('a text line keeps the event name, quotes what needs quoting and never spans two lines', () => {
  const t = Date.UTC(2026, 11, 1, 12, 0, 0, 5);
  assert.equal(
    textLine(JSON.stringify({ level: 30, time: t, jail: 'postfix', target: '198.51.100.7/32', jails: ['a', 'b'], until: null, msg: 'ban.added' })),
    '2026-12-01T12:00:00.005Z INFO  ban.added jail=postfix target=198.51.100.7/32 jails=["a","b"] until=null\n',
  );
  // A record with its own event field and a message for people.
  assert.equal(
    textLine(JSON.stringify({ level: 50, time: t, event: 'action.failed', action: 'nftables', stderr: 'Error: No such file\nor directory', msg: 'nftables: ban failed: exit 1' }), false),
    'ERROR action.failed "nftables: ban failed: exit 1" action=nftables stderr="Error: No such file\\nor directory"\n',
  );
  // An error object: its message.
  assert.equal(textLine(JSON.stringify({ level: 50, time: t, err: { type: 'Error', message: 'boom', stack: 'Error: boom\n at x' }, msg: 'source.failed' }), false), 'ERROR source.failed err=boom\n');
  // Attacker text in a value cannot forge a record.
  const forged = textLine(JSON.stringify({ level: 30, time: t, line: 'x\n<3>2026-12-01 ERROR ban.added', msg: 'ev' }), false);
  assert.equal(forged.split('\n').length, 2);
  assert.equal(forged, 'INFO  ev line="x\\n<3>2026-12-01 ERROR ban.added"\n');
});

test('formatStream: priority prefixes for both formats; plain JSON passes through untouched', () => {
  const out: string[] = [];
  const sink = { write: (s: string) => void out.push(s) };
  for (const [format, journal] of [['json', true], ['text', true], ['json', false]] as const) {
    const log = createLogger({ level: 'debug', destination: formatStream({ format, priorityPrefix: journal, time: !journal }, sink), format: 'json' });
    log.warn({ path: '/x' }, 'source.missing');
    log.debug({}, 'store.historyPruned');
  }
  assert.match(out[0]!, /^<4>\{"level":40,"time":\d+,"path":"\/x","msg":"source\.missing"\}\n$/);
  assert.match(out[1]!, /^<7>\{"level":20,/);
  assert.equal(out[2], '<4>WARN  source.missing path=/x\n');
  assert.equal(out[3], '<7>DEBUG store.historyPruned\n');
  assert.match(out[4]!, /^\{"level":40,/);
});

// ---- the real daemon ---------------------------------------------------------------------------

interface Run {
  readonly stderr: string;
  readonly code: number | null;
}

/**
 * Runs `pban start` with stderr sent to a file and, when `journal` is set, JOURNAL_STREAM naming
 * that file's device and inode, as systemd does for a service whose stderr is the journal.
 */
async function runDaemon(name: string, pban: string, journal: 'match' | 'other' | 'none'): Promise<Run> {
  const dir = path.join(root, name);
  rmSync(dir, { recursive: true, force: true });
  (await import('node:fs')).mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'pban.toml');
  // The second log does not exist: a warning (source.missing) to find at priority 4.
  writeFileSync(path.join(dir, 'mail.log'), '');
  writeFileSync(config, `[pban]\ndatabase = "pban.sqlite"\nsocket = "pban.sock"\n${pban}\n[defaults]\naction = ["dry-run"]\n[jails.postfix]\nfilter = "postfix"\nlogpath = ["mail.log", "missing.log"]\n`);
  const errFile = path.join(dir, 'stderr');
  const fd = openSync(errFile, 'w');
  const st = fstatSync(fd, { bigint: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['JOURNAL_STREAM'];
  if (journal === 'match') env['JOURNAL_STREAM'] = `${st.dev}:${st.ino}`;
  if (journal === 'other') env['JOURNAL_STREAM'] = `${st.dev}:${st.ino + 1n}`;
  const child = spawn(process.execPath, [PBAN_BIN, 'start', '-c', config], { stdio: ['ignore', 'ignore', fd], env });
  closeSync(fd);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const deadline = Date.now() + 15_000;
  while (!readFileSync(errFile, 'utf8').includes('daemon.started')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`daemon did not start: ${readFileSync(errFile, 'utf8')}`);
    await sleep(25);
  }
  child.kill('SIGTERM');
  const code = await exited;
  return { stderr: readFileSync(errFile, 'utf8'), code };
}

const recordLines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

test('daemon, text format under the journal: every line starts with its priority, then level and event', async () => {
  const r = await runDaemon('text-journal', 'logformat = "text"', 'match');
  assert.equal(r.code, 0);
  const lines = recordLines(r.stderr);
  for (const l of lines) assert.match(l, /^<[2-7]>(TRACE|DEBUG|INFO |WARN |ERROR|FATAL) [a-z]+\.[A-Za-z]+( |$)/, l);
  assert.ok(lines.some((l) => /^<4>WARN  source\.missing path=\S+missing\.log /.test(l)), r.stderr);
  assert.ok(lines.some((l) => /^<6>INFO  daemon\.started version=/.test(l)), r.stderr);
  assert.ok(lines.some((l) => l === '<6>INFO  daemon.stopped'), r.stderr);
});

test('daemon, JSON format under the journal: the priority, then one JSON object per line', async () => {
  const r = await runDaemon('json-journal', 'logformat = "json"', 'match');
  assert.equal(r.code, 0);
  const lines = recordLines(r.stderr);
  for (const l of lines) {
    const m = /^<(\d)>(\{.*\})$/.exec(l);
    assert.ok(m, l);
    const rec = JSON.parse(m[2]!) as { level: number; msg: string };
    assert.equal(Number(m[1]), syslogPriority(rec.level));
  }
  assert.ok(lines.some((l) => l.startsWith('<4>{"level":40,') && l.includes('"msg":"source.missing"')), r.stderr);
});

test('daemon, text format on a plain file: time first, no priority; JOURNAL_STREAM for another stream is ignored', async () => {
  for (const journal of ['none', 'other'] as const) {
    const r = await runDaemon(`text-${journal}`, 'logformat = "text"', journal);
    assert.equal(r.code, 0);
    const lines = recordLines(r.stderr);
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (TRACE|DEBUG|INFO |WARN |ERROR|FATAL) [a-z]+\.[A-Za-z]+/, l);
    assert.ok(lines.some((l) => / WARN  source\.missing /.test(l)), r.stderr);
  }
});

test('daemon, no logformat and not a terminal: JSON as before', async () => {
  const r = await runDaemon('default', '', 'none');
  assert.equal(r.code, 0);
  for (const l of recordLines(r.stderr)) assert.doesNotThrow(() => JSON.parse(l), l);
  assert.match(r.stderr, /"msg":"daemon\.started"/);
});
