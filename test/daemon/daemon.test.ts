// The real daemon (dry-run action) driven through the real CLI: bans, expiry, manual
// ban/unban, reload, restart and a crash under load.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { saslLine, cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import type { BannedEntry, DaemonStatus } from '../../src/control/types.js';

let root: string;
const running: DaemonProcess[] = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-daemon-test-'));
});
after(async () => {
  for (const d of running) await stopDaemon(d);
  rmSync(root, { recursive: true, force: true });
});

const iso = (ms = Date.now()): string => new Date(ms).toISOString();

interface Setup {
  dir: string;
  config: string;
  socket: string;
  log: string;
}

function setup(name: string, jails: string, defaults = ''): Setup {
  const dir = path.join(root, name);
  const config = path.join(dir, 'pban.toml');
  const socket = path.join(dir, 'pban.sock');
  const log = path.join(dir, 'mail.log');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(log, '');
  writeFileSync(
    config,
    `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "1h"
ignoreip = ["192.0.2.250"]
action = ["dry-run"]
${defaults}
${jails}`,
  );
  return { dir, config, socket, log };
}


const POSTFIX_JAIL = `[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["mail.log"]
`;

async function start(s: Setup, args: string[] = []): Promise<DaemonProcess> {
  const d = await startDaemon(s.config, s.socket, args);
  running.push(d);
  return d;
}

const banned = (s: Setup, jail?: string): BannedEntry[] => cliJson<BannedEntry[]>(s.socket, jail ? ['banned', jail] : ['banned']);
const status = (s: Setup): DaemonStatus => cliJson<DaemonStatus>(s.socket, ['status']);

test('failures become bans that `pban banned` and `pban status` show; ignoreip never counts', async () => {
  const s = setup('basic', POSTFIX_JAIL);
  const d = await start(s);
  appendFileSync(s.log, [1, 2, 3].map(() => saslLine('198.51.100.7')).join('\n') + '\n');
  appendFileSync(s.log, [1, 2, 3, 4].map(() => saslLine('192.0.2.250')).join('\n') + '\n');
  appendFileSync(s.log, saslLine('2001:db8::5') + '\n');
  const bans = await waitFor('a ban', () => {
    const b = banned(s);
    return b.length > 0 && b;
  });
  assert.deepEqual(
    bans.map((b) => [b.target, b.jail, b.kind, b.failures, b.banNumber]),
    [['198.51.100.7/32', 'postfix', 'address', 3, 1]],
  );
  assert.ok(bans[0]!.expiresAt! - bans[0]!.bannedAt === 3600_000);
  const st = status(s);
  assert.equal(st.jails.length, 1);
  assert.equal(st.jails[0]!.currentlyFailing, 1); // 2001:db8::5
  assert.equal(st.jails[0]!.totalFailed, 4);
  assert.deepEqual(st.jails[0]!.currentlyBanned, { addresses: 1, networks: 0 });
  assert.equal(st.linesRead, 8);
  await waitFor('the ban logged', () => /"msg":"ban\.added"/.test(d.output()));
  await waitFor('the dry-run action logged', () => /"action":"dry-run"/.test(d.output()));
  // The fail2ban-style tree.
  const tree = cli(s.socket, ['status', 'postfix']);
  assert.equal(tree.status, 0, tree.stderr);
  assert.match(tree.stdout, /Currently banned:\t1/);
  assert.match(tree.stdout, /198\.51\.100\.7/);
  assert.equal(await stopDaemon(d), 0);
});

test('manual ban and unban through the CLI; an ignored target and an unknown jail are refused', async () => {
  const s = setup('manual', POSTFIX_JAIL);
  const d = await start(s);
  const b = cli(s.socket, ['ban', 'postfix', '203.0.113.0/24', '--time', '2h']);
  assert.equal(b.status, 0, b.stderr);
  const list = banned(s);
  assert.equal(list.length, 1);
  assert.equal(list[0]!.target, '203.0.113.0/24');
  assert.equal(list[0]!.kind, 'manual');
  assert.equal(list[0]!.expiresAt! - list[0]!.bannedAt, 2 * 3600_000);
  const ig = cli(s.socket, ['ban', 'postfix', '192.0.2.250']);
  assert.equal(ig.status, 1);
  assert.match(ig.stderr, /ignoreip/);
  const unk = cli(s.socket, ['ban', 'nosuch', '198.51.100.1']);
  assert.equal(unk.status, 1);
  assert.match(unk.stderr, /no jail named "nosuch"/);
  // A failure inside the banned network counts for nothing.
  appendFileSync(s.log, [1, 2, 3].map(() => saslLine('203.0.113.77')).join('\n') + '\n');
  await waitFor('lines read', () => status(s).linesRead === 3);
  assert.equal(banned(s).length, 1);
  const u = cli(s.socket, ['unban', '203.0.113.0/24']);
  assert.equal(u.status, 0, u.stderr);
  assert.deepEqual(banned(s), []);
  await waitFor('the manual lift logged', () => /"reason":"manual"/.test(d.output()));
  await stopDaemon(d);
});

test('a ban is lifted by the expiry timer when its time is up', async () => {
  const s = setup('expiry', POSTFIX_JAIL, '');
  writeFileSync(s.config, readFileSync(s.config, 'utf8').replace('bantime = "1h"', 'bantime = "2s"'));
  const d = await start(s);
  appendFileSync(s.log, [1, 2, 3].map(() => saslLine('198.51.100.9')).join('\n') + '\n');
  await waitFor('the ban', () => banned(s).length === 1);
  await waitFor('the expiry', () => banned(s).length === 0, 5000);
  await waitFor('the expiry logged', () => /"msg":"ban\.expired"/.test(d.output()));
  await stopDaemon(d);
});

test('SIGHUP and `pban reload` keep windows and bans; a removed jail is lifted; a bad config is refused', async () => {
  const two = POSTFIX_JAIL + `[jails.other]\nfilter = "postfix[mode=auth]"\nlogpath = ["mail.log"]\n`;
  const s = setup('reload', two);
  const d = await start(s);
  appendFileSync(s.log, [1, 2].map(() => saslLine('198.51.100.20')).join('\n') + '\n');
  appendFileSync(s.log, [1, 2, 3].map(() => saslLine('198.51.100.21')).join('\n') + '\n');
  await waitFor('bans in both jails', () => banned(s).length === 2);
  // Reload by signal with the same config: the pending window of .20 survives.
  d.child.kill('SIGHUP');
  await waitFor('the reload', () => d.output().includes('daemon.reloaded'));
  appendFileSync(s.log, saslLine('198.51.100.20') + '\n');
  await waitFor('.20 banned after the reload', () => banned(s, 'postfix').some((b) => b.target === '198.51.100.20/32'));
  // Remove the jail "other": its bans are lifted.
  writeFileSync(s.config, readFileSync(s.config, 'utf8').replace(/\[jails\.other\][\s\S]*$/, ''));
  const r = cli(s.socket, ['reload']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(status(s).jails.map((j) => j.name), ['postfix']);
  assert.ok(banned(s).every((b) => b.jail === 'postfix'));
  // A broken config is refused and the running one stays.
  writeFileSync(s.config, readFileSync(s.config, 'utf8').replace('maxretry = 3', 'maxretry = "three"'));
  const bad = cli(s.socket, ['reload']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /pban\.toml:\d+: .*maxretry/);
  assert.equal(status(s).jails.length, 1);
  await stopDaemon(d);
});

test('a restart keeps bans and pending failures', async () => {
  const s = setup('restart', POSTFIX_JAIL);
  let d = await start(s);
  appendFileSync(s.log, [1, 2, 3].map(() => saslLine('198.51.100.30')).join('\n') + '\n');
  appendFileSync(s.log, [1, 2].map(() => saslLine('198.51.100.31')).join('\n') + '\n');
  await waitFor('lines', () => status(s).linesRead === 5);
  assert.equal(await stopDaemon(d), 0);
  d = await start(s);
  assert.deepEqual(banned(s).map((b) => b.target), ['198.51.100.30/32']);
  appendFileSync(s.log, saslLine('198.51.100.31') + '\n');
  await waitFor('.31 banned with its pending failures', () => banned(s).length === 2);
  await stopDaemon(d);
});

test('kill -9 under a growing log, then restart: bans and windows equal an uninterrupted run', async () => {
  const s = setup('crash', POSTFIX_JAIL, `[defaults.subnet]\nenabled = true\nmaxretry = 10\nmin_addresses = 3\n`);
  const lines: string[] = [];
  const t0 = Date.now() - 60_000;
  // 6,000 lines: failures from 300 addresses in 30 /24s, mixed with noise, 10 ms apart in log time.
  for (let i = 0; i < 6000; i++) {
    const ms = t0 + i * 10;
    if (i % 3 === 0) lines.push(`${iso(ms)} mail postfix/smtpd[9]: connect from unknown[198.18.0.${i % 250}]`);
    else lines.push(saslLine(`198.51.${100 + (i % 30)}.${(i * 7) % 10}`, ms));
  }
  // The reference: one uninterrupted daemon over the complete log.
  const r = setup('crash-ref', POSTFIX_JAIL, `[defaults.subnet]\nenabled = true\nmaxretry = 10\nmin_addresses = 3\n`);
  writeFileSync(r.log, lines.join('\n') + '\n');
  const ref = await start(r, ['--from-beginning']);
  let last = -1;
  const expected = await waitFor('the reference run to settle', () => {
    const st = status(r);
    const settled = st.linesRead === lines.length && st.jails[0]!.totalFailed === last;
    last = st.jails[0]!.totalFailed;
    return settled && last;
  }, 20_000);

  const d1 = await start(s, ['--from-beginning']);
  // The writer appends in small slices while the daemon follows; kill -9 halfway through.
  for (let i = 0; i < lines.length; i += 100) {
    appendFileSync(s.log, lines.slice(i, i + 100).join('\n') + '\n');
    if (i === 3000) d1.child.kill('SIGKILL');
    await sleep(5);
  }
  await d1.exited;
  const d2 = await start(s, ['--from-beginning']);
  // Counting twice would overshoot, losing lines would never arrive: wait for the total, then compare.
  await waitFor('the rest of the log', () => status(s).jails[0]!.totalFailed >= expected, 20_000);
  await sleep(300);

  const key = (b: BannedEntry): string => `${b.target} ${b.kind} ${b.bannedAt} ${b.expiresAt} ${b.failures} ${b.banNumber}`;
  const got = banned(s).map(key).sort();
  const want = banned(r).map(key).sort();
  assert.ok(want.length > 0);
  assert.deepEqual(got, want);
  const sj = status(s).jails[0]!;
  const rj = status(r).jails[0]!;
  assert.deepEqual(
    [sj.currentlyFailing, sj.totalFailed, sj.totalBanned, sj.currentlyBanned],
    [rj.currentlyFailing, rj.totalFailed, rj.totalBanned, rj.currentlyBanned],
  );
  assert.equal(sj.totalFailed, expected);
  await stopDaemon(d2);
  await stopDaemon(ref);
});

test('against the real daemon: invalid target, garbage on the socket, version, stop; then "not running"', async () => {
  const s = setup('errors', POSTFIX_JAIL);
  const d = await start(s);
  const bad = cli(s.socket, ['ban', 'postfix', '198.51.100.300']);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const mask = cli(s.socket, ['unban', '0x7f.1']);
  assert.equal(mask.status, 2);
  // Garbage gets an error reply and the daemon keeps serving.
  const net = await import('node:net');
  const reply = await new Promise<string>((resolve, reject) => {
    const c = net.createConnection(s.socket);
    let buf = '';
    c.on('data', (b) => (buf += b.toString()));
    c.on('end', () => resolve(buf));
    c.on('error', reject);
    c.end('\u0000\u00ff not json at all\n');
  });
  assert.match(reply, /"ok":false/);
  assert.equal(cli(s.socket, ['status']).status, 0);
  const v = cliJson<{ daemon: { version: string; pid: number } }>(s.socket, ['version']);
  assert.equal(v.daemon.pid, d.child.pid);
  const st = cli(s.socket, ['stop']);
  assert.equal(st.status, 0, st.stderr);
  assert.equal(await d.exited, 0);
  const down = cli(s.socket, ['status']);
  assert.equal(down.status, 1);
  assert.match(down.stderr, /pban is not running \(no socket at /);
});
