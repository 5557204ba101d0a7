// Fault: inputs that are not what they claim, against the real CLI and daemon (dry-run action).
// A FIFO or a device where a config, filter or log file belongs gets one line naming it at once,
// never a hang or an endless read; a log replaced by a FIFO at run time costs only that file;
// and a glob over a log and its rotated copies counts each failure once, across a restart too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import { runPban } from '../helpers/run-cli.js';
import type { BannedEntry, DaemonStatus } from '../../src/control/types.js';

let root: string;
const running: DaemonProcess[] = [];
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-fault-inputs-'));
});
after(async () => {
  // A daemon stuck in a blocking call (the very fault under test) cannot run its SIGTERM handler.
  for (const d of running) {
    const kill = setTimeout(() => d.child.kill('SIGKILL'), 5000);
    await stopDaemon(d);
    clearTimeout(kill);
  }
  rmSync(root, { recursive: true, force: true });
});

const line = (ip: string): string =>
  `${new Date().toISOString()} mail postfix/submission/smtpd[77]: warning: unknown[${ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=bob\n`;

function dirFor(name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function config(dir: string, logpath: string, extra = ''): string {
  const file = path.join(dir, 'pban.toml');
  writeFileSync(
    file,
    `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ${logpath}
findtime = "10m"
maxretry = 3
bantime = "1h"
action = ["dry-run"]
${extra}`,
  );
  return file;
}

const mkfifo = (p: string): void => void execFileSync('mkfifo', [p]);

/** Runs a pban command that must fail at once with exactly one line on stderr. */
function oneLineError(args: string[], pattern: RegExp): void {
  const t0 = Date.now();
  const r = runPban(args, { timeout: 10_000 });
  const ms = Date.now() - t0;
  assert.equal(r.status, 1, `pban ${args.join(' ')}: exit ${r.status} after ${ms} ms\n${r.stderr}`);
  assert.ok(ms < 5000, `took ${ms} ms`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, pattern);
}

test('a FIFO or /dev/zero as the config file: one line naming it, at once', () => {
  const fifo = path.join(dirFor('config-fifo'), 'pban.toml');
  mkfifo(fifo);
  const esc = fifo.replace(/[.]/g, '\\.');
  for (const cmd of ['check', 'start', 'replay']) {
    const extra = cmd === 'replay' ? ['/dev/null'] : [];
    oneLineError([cmd, '-c', fifo, ...extra], new RegExp(`^pban: ${esc}: cannot read config: is a FIFO, not a regular file$`));
  }
  oneLineError(['check', '-c', '/dev/zero'], /^pban: \/dev\/zero: cannot read config: is a character device, not a regular file$/);
  oneLineError(['start', '-c', '/dev/zero'], /^pban: \/dev\/zero: cannot read config: is a character device, not a regular file$/);
  // The client commands read the config for the socket path: the same line, no hang.
  oneLineError(['status', '-c', fifo], new RegExp(`^pban: ${esc}: cannot read config: is a FIFO, not a regular file$`));
});

test('a FIFO as a filter file: one line naming the config line and the filter', () => {
  const dir = dirFor('filter-fifo');
  writeFileSync(path.join(dir, 'mail.log'), '');
  const filter = path.join(dir, 'postfix-local.toml');
  mkfifo(filter);
  const file = config(dir, '["mail.log"]').replace(/$/, '');
  writeFileSync(file, readConfigWithFilter(file, filter));
  oneLineError(['check', '-c', file], /^pban: .*pban\.toml:5: jails\.postfix\.filter: .*postfix-local\.toml: cannot read filter: is a FIFO, not a regular file$/);
});

function readConfigWithFilter(file: string, filter: string): string {
  return execFileSync('cat', [file], { encoding: 'utf8' }).replace('filter = "postfix[mode=aggressive]"', `filter = "${filter}"`);
}

test('a FIFO, a device or a directory as a logpath: pban check and pban start refuse it in one line', () => {
  const dir = dirFor('logpath-fifo');
  mkfifo(path.join(dir, 'mail.log'));
  const file = config(dir, '["mail.log"]');
  const want = /^pban: .*pban\.toml:6: jails\.postfix\.logpath\[0\]: .*mail\.log is a FIFO, not a regular file: a logpath must name log files$/;
  oneLineError(['check', '-c', file], want);
  oneLineError(['start', '-c', file], want);
  const dev = config(dirFor('logpath-dev'), '["/dev/zero"]');
  oneLineError(['check', '-c', dev], /logpath\[0\]: \/dev\/zero is a character device, not a regular file/);
  const d = dirFor('logpath-dir');
  mkdirSync(path.join(d, 'mail.log'));
  oneLineError(['start', '-c', config(d, '["mail.log"]')], /logpath\[0\]: .*mail\.log is a directory, not a regular file/);
});

test('a log replaced by a FIFO at run time: an error for that file, the other file keeps banning', async () => {
  const dir = dirFor('runtime-fifo');
  const a = path.join(dir, 'a.log');
  const b = path.join(dir, 'b.log');
  writeFileSync(a, '');
  writeFileSync(b, '');
  const file = config(dir, '["a.log", "b.log"]');
  const d = await startDaemon(file, path.join(dir, 'pban.sock'));
  running.push(d);
  const socket = path.join(dir, 'pban.sock');
  renameSync(a, `${a}.1`);
  mkfifo(a);
  await waitFor('the FIFO reported', () => /"msg":"source\.notRegularFile".*a\.log|a\.log.*"msg":"source\.notRegularFile"/.test(d.output()), 5000);
  const t0 = Date.now();
  appendFileSync(b, line('198.51.100.7').repeat(3));
  await waitFor('the burst on b.log banned', () => cliJson<BannedEntry[]>(socket, ['banned']).some((x) => x.target === '198.51.100.7/32'), 2000);
  assert.ok(Date.now() - t0 < 2000);
  // Logged once, not at every poll.
  await sleep(1500);
  assert.equal(d.output().match(/"msg":"source\.notRegularFile"/g)!.length, 1, d.output());
  assert.equal(await stopDaemon(d), 0);
});

test('logpath = ["mail.log*"] with rename rotation counts each failure once, across a restart too', async () => {
  const dir = dirFor('glob-rotation');
  const log = path.join(dir, 'mail.log');
  writeFileSync(`${log}.1`, line('203.0.113.1').repeat(5)); // yesterday's, read back then
  writeFileSync(log, '');
  const file = config(dir, '["mail.log*"]');
  const socket = path.join(dir, 'pban.sock');
  const failed = (): number => cliJson<DaemonStatus>(socket, ['status']).jails[0]!.totalFailed;
  const banned = (): string[] => cliJson<BannedEntry[]>(socket, ['banned']).map((x) => x.target);
  let d = await startDaemon(file, socket);
  running.push(d);

  appendFileSync(log, line('198.51.100.7').repeat(2));
  await waitFor('two failures counted', () => failed() === 2, 5000);
  // logrotate `create`: mail.log.1 → mail.log.2, mail.log → mail.log.1, a new mail.log.
  renameSync(`${log}.1`, `${log}.2`);
  renameSync(log, `${log}.1`);
  writeFileSync(log, line('198.51.100.99'));
  await waitFor('the new file read', () => failed() === 3, 5000);
  await sleep(1500); // a second poll: a glob re-expansion that read mail.log.1 again would show now
  assert.equal(failed(), 3, 'each failure counted once');
  assert.deepEqual(banned(), [], '198.51.100.7 has 2 failures, not 4');

  // Rotated again while pban is down; the restart resumes from the stored positions.
  assert.equal(await stopDaemon(d), 0);
  renameSync(`${log}.2`, `${log}.3`);
  renameSync(`${log}.1`, `${log}.2`);
  renameSync(log, `${log}.1`);
  writeFileSync(log, '');
  d = await startDaemon(file, socket);
  running.push(d);
  await sleep(1500);
  assert.equal(failed(), 3, 'nothing read twice after the restart');
  assert.deepEqual(banned(), []);
  // The third failure of 198.51.100.7 bans it, with 3 failures.
  appendFileSync(log, line('198.51.100.7'));
  await waitFor('banned', () => banned().includes('198.51.100.7/32'), 2000);
  const ban = cliJson<BannedEntry[]>(socket, ['banned']).find((x) => x.target === '198.51.100.7/32')!;
  assert.equal(ban.failures, 3);
  assert.equal(await stopDaemon(d), 0);
});
