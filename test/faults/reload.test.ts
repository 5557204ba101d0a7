// Faults at the runtime seam, against the real daemon (dry-run action): `pban check` agrees with
// `pban start` on every config; a refused reload leaves the daemon reading and banning; two
// reloads at once never leave two readers on one log; a second daemon on the same state changes
// nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSync } from 'node:child_process';
import { saslLine, cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import { PBAN_BIN, runPban } from '../helpers/run-cli.js';
import type { BannedEntry } from '../../src/control/types.js';

let root: string;
const running: DaemonProcess[] = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'pban-fault-reload-'));
});
after(async () => {
  for (const d of running) await stopDaemon(d);
  rmSync(root, { recursive: true, force: true });
});


interface Setup {
  readonly dir: string;
  readonly config: string;
  readonly socket: string;
  readonly log: string;
}

function configText(jailExtra = '', subnet = ''): string {
  return `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[defaults]
findtime = "10m"
maxretry = 5
bantime = "1h"
[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["mail.log"]
action = ["dry-run"]
${jailExtra}
${subnet}`;
}

function setup(name: string, text = configText()): Setup {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const s = { dir, config: path.join(dir, 'pban.toml'), socket: path.join(dir, 'pban.sock'), log: path.join(dir, 'mail.log') };
  writeFileSync(s.log, '');
  writeFileSync(s.config, text);
  return s;
}

async function start(s: Setup): Promise<DaemonProcess> {
  const d = await startDaemon(s.config, s.socket);
  running.push(d);
  return d;
}

const bannedTargets = (s: Setup): string[] => cliJson<BannedEntry[]>(s.socket, ['banned']).map((b) => b.target);

/** A burst from `ip` must become a ban quickly, whatever happened before. */
async function burstIsBanned(s: Setup, ip: string, n = 5): Promise<void> {
  appendFileSync(s.log, Array.from({ length: n }, () => saslLine(ip)).join('\n') + '\n');
  await waitFor(`${ip} banned`, () => bannedTargets(s).includes(`${ip}/32`) || undefined, 2_000);
}

// Each of these was accepted by `pban check` and refused by `pban start` (or the reverse) in round 1.
const CASES: readonly { name: string; text: string; ok: boolean; error?: RegExp }[] = [
  { name: 'findtime rounding to zero', text: configText('findtime = "0.1ms"'), ok: false, error: /pban\.toml:\d+: jails\.postfix\.findtime: must be at least 1ms/ },
  { name: 'a /32 network rule', text: configText('', '[jails.postfix.subnet]\nenabled = true\nipv4_prefix = 32'), ok: false, error: /pban\.toml:\d+: jails\.postfix\.subnet\.ipv4_prefix: must be between 8 and 31/ },
  { name: 'a /128 network rule', text: configText('', '[jails.postfix.subnet]\nenabled = true\nipv6_prefix = 128'), ok: false, error: /jails\.postfix\.subnet\.ipv6_prefix: must be between 16 and 127/ },
  { name: 'a service name as port', text: configText('ports = ["smtp", "submission"]'), ok: true },
  { name: 'an unknown service name', text: configText('ports = ["no-such-service"]'), ok: false, error: /pban\.toml:\d+: jails\.postfix\.ports\[0\]: unknown service name/ },
  { name: 'an unknown action parameter', text: configText().replace('action = ["dry-run"]', 'action = ["dry-run[nosuch=1]"]'), ok: false, error: /pban\.toml:\d+: jails\.postfix\.action\[0\]: .*unknown parameter "nosuch"/ },
];

for (const c of CASES) {
  test(`check and start agree: ${c.name}`, async () => {
    const s = setup(`agree-${c.name.replace(/\W+/g, '-')}`, c.text);
    const check = runPban(['check', '-c', s.config]);
    assert.equal(check.status === 0, c.ok, `check: ${check.status} ${check.stderr}`);
    if (c.error) assert.match(check.stderr.trim(), c.error);
    if (!c.ok) assert.equal(check.stderr.trim().split('\n').length, 1, 'one line');
    const started = spawnSync(process.execPath, [PBAN_BIN, 'start', '-c', s.config], { encoding: 'utf8', timeout: 3_000 });
    // A daemon that starts runs until the timeout stops it; one that cannot start exits 1 at once.
    const startOk = started.stderr.includes('daemon.started');
    if (!startOk) assert.equal(started.status, 1);
    assert.equal(startOk, c.ok, `start: ${started.status} ${started.stderr.slice(-500)}`);
    if (c.error) assert.match(started.stderr, c.error);
  });
}

test('a refused reload leaves the daemon reading: the next burst is banned within 2 s', async () => {
  const s = setup('refused');
  const d = await start(s);
  await burstIsBanned(s, '198.51.100.7');
  for (const bad of [configText('findtime = "0.1ms"'), configText('', '[jails.postfix.subnet]\nenabled = true\nipv4_prefix = 32'), 'not toml ['] as const) {
    writeFileSync(s.config, bad);
    const r = cli(s.socket, ['reload']);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr.trim(), /^pban: .*pban\.toml:\d+: /);
  }
  await burstIsBanned(s, '198.51.100.8');
  assert.deepEqual(bannedTargets(s).sort(), ['198.51.100.7/32', '198.51.100.8/32']);
  const st = cliJson<{ jails: { sources: string[] }[] }>(s.socket, ['status']);
  assert.deepEqual(st.jails[0]?.sources, [s.log]);
  assert.doesNotMatch(d.output(), /daemon\.reloaded/);
});

test('two reloads at once (SIGHUP and pban reload) leave one reader: 3 failures with maxretry 5 ban nobody', async () => {
  const s = setup('double-hup');
  const d = await start(s);
  // A changed action makes each reload restart the jail's runner, the slow path of round 1.
  writeFileSync(s.config, configText('ports = ["25"]'));
  // Two SIGHUPs sent together are merged by the kernel into one: the second comes by the socket.
  d.child.kill('SIGHUP');
  const r = cli(s.socket, ['reload']);
  assert.equal(r.status, 0, r.stderr);
  await waitFor('two reloads', () => (d.output().match(/daemon\.reloaded/g)?.length === 2 ? true : undefined), 5_000);
  appendFileSync(s.log, [1, 2, 3].map(() => saslLine('203.0.113.9')).join('\n') + '\n');
  await sleep(700);
  assert.deepEqual(bannedTargets(s), [], 'each line counted once');
  const st = cliJson<{ jails: { totalFailed: number }[] }>(s.socket, ['status']);
  assert.equal(st.jails[0]?.totalFailed, 3);
  appendFileSync(s.log, [1, 2].map(() => saslLine('203.0.113.9')).join('\n') + '\n');
  await waitFor('ban after 5', () => bannedTargets(s).includes('203.0.113.9/32') || undefined, 2_000);
});

test('a second daemon on the same state directory exits with one line and changes nothing', async () => {
  const s = setup('second');
  await start(s);
  await burstIsBanned(s, '198.51.100.20');
  // Its own socket, the same database: only the state lock can stop it.
  const other = path.join(s.dir, 'other.toml');
  writeFileSync(other, configText().replace('socket = "pban.sock"', 'socket = "other.sock"'));
  const r = spawnSync(process.execPath, [PBAN_BIN, 'start', '-c', other], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr.trim().split('\n').at(-1) ?? '', /^pban: another pban is running with the state in /);
  assert.deepEqual(bannedTargets(s), ['198.51.100.20/32']);
  await burstIsBanned(s, '198.51.100.21');
});
