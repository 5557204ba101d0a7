// The admin's verdicts against the real daemon (dry-run action): a manual unban resets the ban
// count (also across a restart), and a jail removed from the config keeps its manual and
// permanent bans in force, reports them, and lifts them only when told (--lift-removed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saslLine, cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import type { BannedEntry, DaemonStatus } from '../../src/control/types.js';

let root: string;
const running: DaemonProcess[] = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-verdict-test-'));
});
after(async () => {
  for (const d of running) await stopDaemon(d);
  rmSync(root, { recursive: true, force: true });
});

interface Setup {
  config: string;
  socket: string;
  log: string;
}

function setup(name: string, body: string): Setup {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'pban.toml');
  const log = path.join(dir, 'mail.log');
  writeFileSync(log, '');
  writeFileSync(config, `[pban]\ndatabase = "pban.sqlite"\nsocket = "pban.sock"\n${body}`);
  return { config, socket: path.join(dir, 'pban.sock'), log };
}

async function start(s: Setup): Promise<DaemonProcess> {
  const d = await startDaemon(s.config, s.socket);
  running.push(d);
  return d;
}

const banned = (s: Setup): BannedEntry[] => cliJson<BannedEntry[]>(s.socket, ['banned']);
const status = (s: Setup): DaemonStatus => cliJson<DaemonStatus>(s.socket, ['status']);

/** Three failures of `ip`, then the ban they give. */
async function offend(s: Setup, ip: string): Promise<BannedEntry> {
  appendFileSync(s.log, [1, 2, 3].map(() => saslLine(ip)).join('\n') + '\n');
  return waitFor(`${ip} banned`, () => banned(s).find((b) => b.target === `${ip}/32`), 20_000);
}

test('unban then re-offend: the base bantime again, not doubled; also after a restart', async () => {
  const s = setup(
    'unban-reset',
    `[defaults]
maxretry = 3
bantime = "3s"
action = ["dry-run"]
[defaults.bantime_increment]
enabled = true
factor = 2
maxtime = "1h"
remember = "1h"
[jails.postfix]
filter = "postfix[mode=auth]"
logpath = ["mail.log"]
`,
  );
  const ip = '198.51.100.40';
  let d = await start(s);
  const first = await offend(s, ip);
  assert.deepEqual([first.banNumber, first.expiresAt! - first.bannedAt], [1, 3000]);
  await waitFor('the first ban to expire', () => banned(s).length === 0, 20_000);
  // An expiry is no verdict: the increment doubles the second ban.
  const second = await offend(s, ip);
  assert.deepEqual([second.banNumber, second.expiresAt! - second.bannedAt], [2, 6000], 'the increment is on');
  const u = cli(s.socket, ['unban', ip]);
  assert.equal(u.status, 0, u.stderr);
  const third = await offend(s, ip);
  assert.deepEqual([third.banNumber, third.expiresAt! - third.bannedAt], [1, 3000], 'after a manual unban: base bantime');
  // Lifted by hand again, then a restart: the store's history still says "reset".
  assert.equal(cli(s.socket, ['unban', ip]).status, 0);
  assert.equal(await stopDaemon(d), 0);
  d = await start(s);
  const fourth = await offend(s, ip);
  assert.deepEqual([fourth.banNumber, fourth.expiresAt! - fourth.bannedAt], [1, 3000], 'after a restart: base bantime');
  // unban --all is the same verdict.
  assert.equal(cli(s.socket, ['unban', '--all']).status, 0);
  const fifth = await offend(s, ip);
  assert.deepEqual([fifth.banNumber, fifth.expiresAt! - fifth.bannedAt], [1, 3000], 'after unban --all: base bantime');
  assert.equal(await stopDaemon(d), 0);
});

const TWO_JAILS = `[defaults]
maxretry = 3
bantime = "1h"
action = ["dry-run"]
[jails.postfix]
filter = "postfix[mode=auth]"
logpath = ["mail.log"]
[jails.other]
filter = "postfix[mode=auth]"
logpath = ["mail.log"]
`;

test('a reload removing a jail keeps its manual and permanent bans in force and reports them; --lift-removed lifts them', async () => {
  const s = setup('removed-jail', TWO_JAILS);
  let d = await start(s);
  assert.equal(cli(s.socket, ['ban', 'other', '203.0.113.9']).status, 0);
  assert.equal(cli(s.socket, ['ban', 'other', '203.0.113.0/24', '--time', 'permanent']).status, 0);
  await offend(s, '198.51.100.21'); // an automatic 1h ban in both jails
  await waitFor('the automatic bans', () => banned(s).filter((b) => b.target === '198.51.100.21/32').length === 2);

  writeFileSync(s.config, readFileSync(s.config, 'utf8').replace(/\[jails\.other\][\s\S]*$/, ''));
  const r = cli(s.socket, ['reload']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^retired: other \(no longer in the config; 2 manual or permanent bans kept in force\)$/m);
  assert.match(r.stdout, /^removed: other \(1 bans lifted\)$/m);
  assert.match(r.stderr, /^pban: kept in force: 203\.0\.113\.9\/32 \(jail other, manual, until .+\)$/m);
  assert.match(r.stderr, /^pban: kept in force: 203\.0\.113\.0\/24 \(jail other, manual, permanent\)$/m);
  assert.match(r.stderr, /pban unban --all --jail other/);
  await waitFor('the warning in the log', () => d.output().includes('"msg":"jail.retired"'));
  const again = cli(s.socket, ['reload']);
  assert.match(again.stdout, /^retired: other \(.*2 manual or permanent bans kept in force\)$/m, 'a second reload still reports them');
  assert.doesNotMatch(again.stdout, /^removed:/m, 'but the jail is not removed again');
  const after1 = banned(s).map((b) => `${b.jail} ${b.target} ${b.kind}`).sort();
  assert.deepEqual(after1, ['other 203.0.113.0/24 manual', 'other 203.0.113.9/32 manual', 'postfix 198.51.100.21/32 address']);
  const other = status(s).jails.find((j) => j.name === 'other');
  assert.match(other?.filter ?? '', /^retired/);
  assert.deepEqual(other?.currentlyBanned, { addresses: 1, networks: 1 });
  const refused = cli(s.socket, ['ban', 'other', '203.0.113.77']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /no longer in the config/);

  // A start with the config that no longer has the jail keeps them too.
  assert.equal(await stopDaemon(d), 0);
  d = await start(s);
  await waitFor('the warning at start', () => d.output().includes('"msg":"jail.retired"'));
  assert.deepEqual(banned(s).map((b) => `${b.jail} ${b.target}`).sort(), ['other 203.0.113.0/24', 'other 203.0.113.9/32', 'postfix 198.51.100.21/32']);

  // Lifted only when told.
  const lift = cli(s.socket, ['reload', '--lift-removed']);
  assert.equal(lift.status, 0, lift.stderr);
  assert.match(lift.stdout, /\(2 bans lifted\)/);
  assert.deepEqual(banned(s).map((b) => b.jail), ['postfix']);
  assert.deepEqual(status(s).jails.map((j) => j.name), ['postfix']);
  assert.equal(await stopDaemon(d), 0);
});

test('a retired jail goes away when its last kept ban is unbanned; a jail that comes back picks its bans up', async () => {
  const s = setup('retired-unban', TWO_JAILS);
  const d = await start(s);
  assert.equal(cli(s.socket, ['ban', 'other', '203.0.113.10', '--time', 'permanent']).status, 0);
  assert.equal(cli(s.socket, ['ban', 'other', '203.0.113.11']).status, 0);
  const full = readFileSync(s.config, 'utf8');
  writeFileSync(s.config, full.replace(/\[jails\.other\][\s\S]*$/, ''));
  assert.equal(cli(s.socket, ['reload']).status, 0);
  // Back under the same name: it is a normal jail again, with its bans.
  writeFileSync(s.config, full);
  const back = cli(s.socket, ['reload']);
  assert.match(back.stdout, /^added: other$/m);
  assert.doesNotMatch(back.stdout, /^retired:/m);
  assert.doesNotMatch(status(s).jails.find((j) => j.name === 'other')?.filter ?? '', /retired/);
  assert.equal(banned(s).length, 2);
  writeFileSync(s.config, full.replace(/\[jails\.other\][\s\S]*$/, ''));
  assert.equal(cli(s.socket, ['reload']).status, 0);
  assert.equal(cli(s.socket, ['unban', '203.0.113.10']).status, 0);
  assert.ok(status(s).jails.some((j) => j.name === 'other'), 'one kept ban left');
  assert.equal(cli(s.socket, ['unban', '--all', '--jail', 'other']).status, 0);
  assert.deepEqual(status(s).jails.map((j) => j.name), ['postfix']);
  assert.deepEqual(banned(s), []);
  assert.equal(await stopDaemon(d), 0);
});

test('recidive: 3 bans of one address across two jails give a long ban on every port; the recidive ban does not count', async () => {
  const s = setup(
    'recidive',
    `[defaults]
maxretry = 3
bantime = "2s"
action = ["dry-run"]
ports = ["25", "587"]
[jails.smtp]
filter = "postfix[mode=auth]"
logpath = ["mail.log"]
[jails.submission]
filter = "postfix[mode=auth]"
logpath = ["sub.log"]
[jails.recidive]
source = "bans"
maxretry = 3
findtime = "1d"
bantime = "1w"
`,
  );
  const sub = path.join(path.dirname(s.log), 'sub.log');
  writeFileSync(sub, '');
  const ip = '203.0.113.66';
  const d = await start(s);
  const threeIn = (file: string): void => appendFileSync(file, [1, 2, 3].map(() => saslLine(ip)).join('\n') + '\n');
  const bansOf = (jail: string): BannedEntry[] => banned(s).filter((b) => b.jail === jail && b.target === `${ip}/32`);
  threeIn(s.log);
  await waitFor('ban 1 (smtp)', () => bansOf('smtp').length === 1, 20_000);
  threeIn(sub);
  await waitFor('ban 2 (submission)', () => bansOf('submission').length === 1, 20_000);
  assert.deepEqual(bansOf('recidive'), [], 'two bans: not yet');
  await waitFor('both bans over', () => bansOf('smtp').length + bansOf('submission').length === 0, 20_000);
  threeIn(s.log);
  const [rec] = await waitFor('the recidive ban', () => bansOf('recidive').length === 1 && bansOf('recidive'), 20_000);
  assert.deepEqual([rec!.kind, rec!.failures, rec!.expiresAt! - rec!.bannedAt], ['address', 3, 7 * 86_400_000]);
  const added = (jail: string): number => (d.output().match(new RegExp(`"jail":"${jail}","target":"${ip.replace(/\./g, '\\.')}/32"[^\n]*"msg":"ban\\.added"`, 'g')) ?? []).length;
  // (The log reaches the pipe in its own time: wait for it.)
  await waitFor('the three jail bans and the recidive ban in the log', () => added('smtp') === 2 && added('submission') === 1 && added('recidive') === 1);
  const st = status(s).jails.find((j) => j.name === 'recidive');
  assert.equal(st?.filter, 'bans[mode=none]');
  // The action path of the recidive jail: its dry-run action ran for the ban.
  await waitFor('the recidive action', () => new RegExp(`"jail":"recidive"[^\\n]*${ip.replace(/\./g, '\\.')}|${ip.replace(/\./g, '\\.')}[^\\n]*jail=recidive`).test(d.output()));
  // The recidive ban does not count towards recidive: still exactly one, after a restart too.
  assert.equal(await stopDaemon(d), 0);
  const d2 = await start(s);
  assert.equal(bansOf('recidive').length, 1);
  assert.equal(await stopDaemon(d2), 0);
});
