// Fault tests of the store under the real daemon (`pban start`, dry-run action, real CLI):
// a full disk (a small tmpfs holding the state directory, filled to the last byte), a database
// deleted while pban runs, and a database emptied while it was stopped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { saslLine, cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import { runPban } from '../helpers/run-cli.js';
import { mountSmallDisk, type SmallDisk } from '../store/full-disk.js';
import type { BannedEntry, DaemonStatus } from '../../src/control/types.js';

let root: string;
const running: DaemonProcess[] = [];
const disks: SmallDisk[] = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-fault-store-'));
});
after(async () => {
  for (const d of running) await stopDaemon(d);
  for (const d of disks) d.unmount();
  rmSync(root, { recursive: true, force: true });
});


interface Setup {
  dir: string;
  state: string;
  database: string;
  config: string;
  socket: string;
  log: string;
}

/** A config dir with its log, and a separate state directory (where a small disk can go). */
function setup(name: string): Setup {
  const dir = path.join(root, name);
  rmSync(dir, { recursive: true, force: true });
  const state = path.join(dir, 'state');
  mkdirSync(state, { recursive: true });
  const s: Setup = {
    dir,
    state,
    database: path.join(state, 'pban.sqlite'),
    config: path.join(dir, 'pban.toml'),
    socket: path.join(dir, 'pban.sock'),
    log: path.join(dir, 'mail.log'),
  };
  writeFileSync(s.log, '');
  writeFileSync(
    s.config,
    `[pban]
database = "state/pban.sqlite"
socket = "pban.sock"
[defaults]
findtime = "10m"
maxretry = 5
bantime = "1h"
action = ["dry-run"]
[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["mail.log"]
`,
  );
  return s;
}

async function start(s: Setup, args: string[] = []): Promise<DaemonProcess> {
  const d = await startDaemon(s.config, s.socket, args);
  running.push(d);
  return d;
}

/** `pban status --json`; its exit code must say what its health says (3: not protecting as configured). */
function status(s: Setup): DaemonStatus {
  const r = cli(s.socket, ['status', '--json']);
  const st = JSON.parse(r.stdout) as DaemonStatus;
  assert.equal(r.status, st.health.ok ? 0 : 3, `exit code vs health: ${r.stderr}`);
  if (st.store && !st.store.ok) assert.equal(st.health.ok, false, 'a failing store is a health problem');
  return st;
}
const bannedTargets = (s: Setup): string[] => cliJson<BannedEntry[]>(s.socket, ['banned']).map((b) => b.target);
const fail = (s: Setup, ip: string, n: number): void => appendFileSync(s.log, Array.from({ length: n }, () => saslLine(ip)).join('\n') + '\n');

/** The targets the dry-run action was asked to ban (its "dry run" log records), in order. */
function appliedBans(d: DaemonProcess): string[] {
  const out: string[] = [];
  for (const line of d.output().split('\n')) {
    if (!line.includes('"dry run"')) continue;
    const rec = JSON.parse(line) as { argv?: string[] };
    if (rec.argv?.[0] === 'ban') out.push(rec.argv[1]!);
  }
  return out;
}

test('disk full: status says so, expiry does not kill the daemon, nothing is lost or counted twice, and bans land once there is room', async (t) => {
  const s = setup('disk-full');
  const disk = mountSmallDisk(s.state, 1024);
  disks.push(disk);
  const d = await start(s);
  assert.equal(status(s).store?.ok, true);
  // A ban that expires while the disk is full: its expiry commit fails (this killed the daemon).
  assert.equal(cli(s.socket, ['ban', 'postfix', '203.0.113.50', '--time', '3s']).status, 0);
  const expiresAt = Date.now() + 3000;

  disk.fill();
  fail(s, '198.51.100.3', 3); // maxretry is 5: must never be banned by these 3
  fail(s, '198.51.100.66', 6); // a real burst: banned, but only once it is stored
  const st = await waitFor('status to report the store failing', () => {
    const x = status(s);
    return x.store?.ok === false ? x : undefined;
  });
  assert.match(st.store!.lastError ?? '', /full/i);
  assert.equal(st.store!.path, s.database);
  await waitFor('the failure in the log', () => d.output().includes('store.commitFailed'), 2000);
  const human = cli(s.socket, ['status']);
  assert.match(human.stdout, /Store: .*pban\.sqlite FAILING: .*full/i);

  // Past the manual ban's end, and a few retries of the expiry and of the batch.
  await sleep(Math.max(0, expiresAt - Date.now()) + 2500);
  assert.equal(d.child.exitCode, null, `the daemon died:\n${d.output().slice(-3000)}`);
  assert.equal(status(s).store?.ok, false);
  const during = bannedTargets(s);
  assert.ok(!during.includes('198.51.100.66/32'), 'no ban that the store lacks is shown');
  assert.ok(during.includes('203.0.113.50/32'), 'the lift is not stored yet, so the ban stays');
  assert.ok(!appliedBans(d).includes('198.51.100.66/32'), 'no ban reaches the firewall before it is stored');

  const cleared = Date.now();
  disk.clear();
  await waitFor(
    'the burst to be stored and applied',
    () => bannedTargets(s).includes('198.51.100.66/32') && appliedBans(d).includes('198.51.100.66/32'),
    5000,
  );
  const took = Date.now() - cleared;
  t.diagnostic(`burst banned and applied ${took} ms after the disk had room`);
  assert.ok(took <= 2000, `the burst was banned and applied ${took} ms after the disk had room (limit 2000 ms)`);
  await waitFor('the store to be healthy', () => status(s).store?.ok === true, 3000);
  await waitFor('the expired manual ban to be lifted', () => !bannedTargets(s).includes('203.0.113.50/32'), 3000);
  assert.ok(!bannedTargets(s).includes('198.51.100.3/32'), 'three failures, re-read after the fault, still count three');
  assert.equal(appliedBans(d).filter((t) => t === '198.51.100.66/32').length, 1, 'applied once');

  // Exactly three were counted: two more make five, and only then is it banned.
  fail(s, '198.51.100.3', 1);
  await sleep(500);
  assert.ok(!bannedTargets(s).includes('198.51.100.3/32'), 'four failures: not banned');
  fail(s, '198.51.100.3', 1);
  await waitFor('the fifth failure to ban', () => bannedTargets(s).includes('198.51.100.3/32'), 2000);

  // A fresh burst after the fault is banned and applied as usual.
  const t0 = Date.now();
  fail(s, '198.51.100.77', 5);
  await waitFor('a new burst to be banned and applied', () => appliedBans(d).includes('198.51.100.77/32'), 2000);
  assert.ok(Date.now() - t0 <= 2000);

  // And all of it is in the store: a restart has the same bans.
  assert.equal(await stopDaemon(d), 0);
  const again = await start(s);
  const after = bannedTargets(s);
  for (const t of ['198.51.100.66/32', '198.51.100.3/32', '198.51.100.77/32']) assert.ok(after.includes(t), `${t} survives a restart`);
  assert.ok(!after.includes('203.0.113.50/32'));
  await stopDaemon(again);
  disk.unmount();
});

test('a database deleted while pban runs is reported, protection goes on, and its state is saved', async () => {
  const s = setup('deleted');
  const d = await start(s);
  fail(s, '198.51.100.20', 5);
  await waitFor('a ban', () => bannedTargets(s).includes('198.51.100.20/32'));
  for (const x of ['', '-wal', '-shm']) rmSync(s.database + x, { force: true });
  // The periodic check (every 5 s) or the next commit notices it.
  fail(s, '198.51.100.21', 5);
  const st = await waitFor('status to report the deleted database', () => {
    const x = status(s);
    return x.store?.ok === false ? x : undefined;
  }, 8000);
  assert.match(st.store!.lastError ?? '', /deleted while pban was running/);
  await waitFor('the deletion in the log', () => d.output().includes('store.fileLost'), 2000);
  await waitFor('the burst after the deletion to be banned and applied', () => appliedBans(d).includes('198.51.100.21/32'), 3000);
  await waitFor('the rescued copy', () => existsSync(`${s.database}.rescued`), 3000);

  // Stopped, it is not started from nothing: the start is refused and points at the saved state.
  assert.equal(await stopDaemon(d), 0);
  const r = runPban(['start', '-c', s.config]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^pban: .*pban\.sqlite: the database is missing, but pban had state here .*pban\.sqlite\.rescued.*--fresh-state/);
  // Putting the saved copy back continues from it, with every ban (including the one made after the deletion).
  for (const x of ['', '-wal', '-shm']) rmSync(s.database + x, { force: true });
  renameSync(`${s.database}.rescued`, s.database);
  await start(s);
  const bans = bannedTargets(s);
  assert.ok(bans.includes('198.51.100.20/32') && bans.includes('198.51.100.21/32'), JSON.stringify(bans));
  assert.equal(status(s).store?.ok, true);
});

test('a database emptied while pban was stopped is refused; --fresh-state starts empty and keeps the old file', async () => {
  const s = setup('emptied');
  const d = await start(s);
  fail(s, '198.51.100.30', 5);
  await waitFor('a ban', () => bannedTargets(s).includes('198.51.100.30/32'));
  assert.equal(await stopDaemon(d), 0);
  for (const x of ['-wal', '-shm']) rmSync(s.database + x, { force: true });
  truncateSync(s.database, 0);

  const r = runPban(['start', '-c', s.config]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^pban: .*pban\.sqlite: the database is empty, but pban had state here .*--fresh-state/);
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');

  const fresh = await start(s, ['--fresh-state']);
  assert.deepEqual(bannedTargets(s), []);
  assert.equal(status(s).store?.ok, true);
  await waitFor('the fresh start in the log', () => fresh.output().includes('store.freshState'), 2000);
  // Protection works on the new database.
  fail(s, '198.51.100.31', 5);
  await waitFor('a ban on the fresh database', () => appliedBans(fresh).includes('198.51.100.31/32'), 3000);
});
