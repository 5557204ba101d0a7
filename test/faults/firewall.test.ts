// Fault tests for the firewall side of the real daemon (`pban start` inside a network namespace
// this file creates, real nft): ban ends beyond what nft takes, a flushed set, a second daemon
// on the same jails, a missing or hung firewall program, and what `pban check` refuses. After
// each fault, protection goes on (a new failure burst is banned in the kernel) and `pban
// status` tells the truth.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saslLine, cli, cliJson, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import { PBAN_BIN, runPban } from '../helpers/run-cli.js';
import { must, rootSnapshot, run } from '../helpers/netns.js';
import { requireCommands } from '../helpers/system.js';
import type { DaemonStatus } from '../../src/control/types.js';

const NS = `pbanfw-${process.pid}`;
const IN_NS = ['ip', 'netns', 'exec', NS];
const root = mkdtempSync(path.join(os.tmpdir(), 'pban-fw-fault-'));
const running: DaemonProcess[] = [];
let rootBefore: string;

before(() => {
  requireCommands(['ip', 'nft']);
  rootBefore = rootSnapshot();
  if (run(['ip', 'netns', 'list']).stdout.split('\n').some((l) => l.split(' ')[0] === NS)) must(['ip', 'netns', 'del', NS]);
  must(['ip', 'netns', 'add', NS]);
});

// a failed test must not leave its daemon holding the jail's lock for the next one
afterEach(async () => {
  for (const d of running.splice(0)) await stopDaemon(d);
});

after(async () => {
  run(['ip', 'netns', 'del', NS]);
  rmSync(root, { recursive: true, force: true });
  assert.equal(rootSnapshot(), rootBefore, 'the root namespace firewall changed');
});

const nft = (...args: string[]): string => must([...IN_NS, 'nft', ...args]);
const tryNft = (...args: string[]): string => run([...IN_NS, 'nft', ...args]).stdout;

interface Setup {
  readonly dir: string;
  readonly config: string;
  readonly socket: string;
  readonly log: string;
}

function setup(name: string, opts: { action?: string; bantime?: string; checkInterval?: string } = {}): Setup {
  const dir = path.join(root, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const s = { dir, config: path.join(dir, 'pban.toml'), socket: path.join(dir, 'pban.sock'), log: path.join(dir, 'mail.log') };
  writeFileSync(s.log, '');
  writeFileSync(
    s.config,
    `[pban]
database = "pban.sqlite"
socket = "pban.sock"
check_interval = "${opts.checkInterval ?? '1s'}"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "${opts.bantime ?? '1h'}"
action = [${JSON.stringify(opts.action ?? 'nftables')}]
ports = ["25", "587"]
[jails.postfix]
filter = "postfix[mode=aggressive]"
logpath = ["mail.log"]
`,
  );
  return s;
}

/** The daemon runs inside the namespace: its nft calls reach only the namespace's firewall. */
async function start(s: Setup): Promise<DaemonProcess> {
  const d = await startDaemon(s.config, s.socket, [], IN_NS);
  running.push(d);
  return d;
}

async function stop(d: DaemonProcess): Promise<number | null> {
  const code = await stopDaemon(d);
  running.splice(running.indexOf(d), 1);
  return code;
}

/** `pban status --json`, whose exit code must agree with its health (3: not protecting as configured). */
function status(s: Setup): DaemonStatus {
  const r = cli(s.socket, ['status', '--json']);
  const st = JSON.parse(r.stdout) as DaemonStatus;
  assert.equal(r.status, st.health.ok ? 0 : 3, r.stderr);
  return st;
}
const actionOk = (s: Setup): boolean | undefined => status(s).jails[0]?.actions[0]?.ok;
const host4 = (): string => tryNft('list', 'set', 'inet', 'pban-postfix', 'host4');

/** Protection goes on: three failures of a new address put it in the kernel. */
async function burstIsBanned(s: Setup, ip: string): Promise<void> {
  appendFileSync(s.log, [1, 2, 3].map(() => saslLine(ip)).join('\n') + '\n');
  await waitFor(`${ip} banned in the kernel`, () => host4().includes(ip), 10_000);
}

test('ban ends beyond what nft takes (bantime = "166w", pban ban --time 200w) land with nft\'s longest timeout; later bans land too', async () => {
  const s = setup('long', { bantime: '166w' });
  const d = await start(s);
  const b = cli(s.socket, ['ban', 'postfix', '198.51.100.7', '--time', '200w']);
  assert.equal(b.status, 0, b.stderr);
  await burstIsBanned(s, '198.51.100.8');
  const set = host4();
  assert.match(set, /198\.51\.100\.7 timeout 1157d9h46m39s/);
  assert.match(set, /198\.51\.100\.8 timeout 1157d9h46m39s/, 'the jail bantime of 166 weeks is capped as well');
  const later = cli(s.socket, ['ban', 'postfix', '198.51.100.9', '--time', '10m']);
  assert.equal(later.status, 0, later.stderr);
  // 10m, or 9m59s when a second went by between the ban and the nft call
  await waitFor('the later ban in the kernel', () => /198\.51\.100\.9 timeout (10m|9m5\ds)[ ,}]/.test(host4()));
  assert.equal(actionOk(s), true);
  // pban keeps the real end: `pban banned` shows 200 weeks, not the kernel's cap
  const listed = cliJson<{ target: string; expiresAt: number | null }[]>(s.socket, ['banned', 'postfix']);
  const long = listed.find((e) => e.target.startsWith('198.51.100.7'));
  assert.ok(long?.expiresAt && long.expiresAt > Date.now() + 199 * 7 * 86_400_000, JSON.stringify(long));
  assert.equal(await stop(d), 0);
});

test('a flushed set is refilled within one check interval (1s), the repair is logged, and status is healthy after', async () => {
  const s = setup('flush');
  const d = await start(s);
  await burstIsBanned(s, '198.51.100.21');
  nft('flush', 'set', 'inet', 'pban-postfix', 'host4');
  assert.doesNotMatch(host4(), /198\.51\.100\.21/);
  const t0 = Date.now();
  await waitFor('the ban back in the kernel', () => host4().includes('198.51.100.21'), 3000);
  assert.ok(Date.now() - t0 < 2500, `repaired after ${Date.now() - t0} ms`);
  await waitFor('status ok', () => actionOk(s) === true, 2000);
  assert.match(d.output(), /"event":"action.missing".*1 ban\(s\) missing from the kernel/);
  await waitFor('recovery logged', () => /"event":"action.recovered"/.test(d.output()), 2000);
  await burstIsBanned(s, '198.51.100.22');
  assert.equal(await stop(d), 0);
});

test('a second daemon with the same jail names is refused and changes nothing; the first one\'s set and table stay', async () => {
  const first = setup('first');
  const d1 = await start(first);
  await burstIsBanned(first, '198.51.100.31');
  const before = nft('list', 'table', 'inet', 'pban-postfix').replace(/ expires \S+?(?=[,\s}])/g, '');
  const second = setup('second');
  await assert.rejects(start(second), (e: Error) => {
    assert.match(e.message, new RegExp(`firewall object "nft-inet-pban-postfix" is already used by pban process ${d1.child.pid}`));
    return true;
  });
  assert.equal(nft('list', 'table', 'inet', 'pban-postfix').replace(/ expires \S+?(?=[,\s}])/g, ''), before, 'the second daemon changed nothing');
  assert.equal(actionOk(first), true);
  await burstIsBanned(first, '198.51.100.32');
  assert.equal(await stop(d1), 0);
  assert.doesNotMatch(tryNft('list', 'ruleset'), /pban-postfix/, 'the first daemon cleans up at stop');
  // the lock went with the first daemon: the second one starts now
  const d2 = await start(second);
  await burstIsBanned(second, '198.51.100.33');
  assert.equal(await stop(d2), 0);
});

test('pban check fails on a missing firewall program, a command action\'s program, a script-breaking parameter and a duration past the limit', () => {
  const cases: [string, Parameters<typeof setup>[1], RegExp][] = [
    ['no-nft', { action: 'nftables[nft="/nonexistent/nft"]' }, /pban\.toml:\d+: .*action nftables: program "\/nonexistent\/nft" not found or not executable/],
    ['no-cmd', { action: 'command[ban_command="/nonexistent/block"]' }, /pban\.toml:\d+: .*action command: program "\/nonexistent\/block" not found/],
    ['semicolon', { action: 'nftables[table="pban; flush ruleset"]' }, /pban\.toml:\d+: .*nftables: parameter "table": "pban; flush ruleset" may only hold letters/],
    ['forever', { bantime: '200y' }, /pban\.toml:\d+: .*unknown unit "y"/],
    ['too-long', { bantime: '5300w' }, /pban\.toml:\d+: .*longer than the limit of 5214w2d \(100 years\); use -1 for permanent/],
    ['interval', { checkInterval: '100ms' }, /pban\.toml:\d+: .*check_interval.*at least 1s/],
  ];
  for (const [name, opts, message] of cases) {
    const s = setup(name, opts);
    const r = runPban(['check', '-c', s.config]);
    assert.equal(r.status, 1, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, name);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line: ${r.stderr}`);
  }
  const good = setup('good');
  const ok = runPban(['check', '-c', good.config]);
  assert.equal(ok.status, 0, ok.stderr);
});

test('with the firewall program missing at start, `pban start` refuses with the line `pban check` gives', async () => {
  const s = setup('missing-at-start', { action: 'nftables[nft="/nonexistent/nft"]' });
  const check = runPban(['check', '-c', s.config]);
  assert.equal(check.status, 1);
  const line = check.stderr.trim();
  assert.match(line, /pban\.toml:\d+: .*program "\/nonexistent\/nft" not found or not executable/);
  await assert.rejects(start(s), (err: Error) => err.message.includes(line));
});

test('with the firewall program gone while running, status says so and `pban stop` ends the daemon within 5 s', async () => {
  const s = setup('missing');
  const wrapper = path.join(s.dir, 'nft-wrapper');
  writeFileSync(wrapper, '#!/bin/sh\nexec nft "$@"\n');
  chmodSync(wrapper, 0o755);
  writeFileSync(s.config, readFileSync(s.config, 'utf8').replace('action = ["nftables"]', `action = ["nftables[nft=\\"${wrapper}\\"]"]`));
  const d = await start(s);
  rmSync(wrapper);
  appendFileSync(s.log, [1, 2, 3].map(() => saslLine('198.51.100.41')).join('\n') + '\n');
  await waitFor('the ban recorded', () => cliJson<unknown[]>(s.socket, ['banned', 'postfix']).length === 1);
  const st = await waitFor('the action unhealthy', () => {
    const a = status(s).jails[0]?.actions[0];
    return a?.ok === false ? a : undefined;
  });
  assert.match(st.lastError ?? '', /ENOENT|not found/);
  const t0 = Date.now();
  const r = cli(s.socket, ['stop']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(await d.exited, 0);
  running.splice(running.indexOf(d), 1);
  assert.ok(Date.now() - t0 < 5000, `stopped after ${Date.now() - t0} ms`);
  run([...IN_NS, 'nft', 'delete', 'table', 'inet', 'pban-postfix']); // its stop could not run nft
});

test('with the firewall program hung, SIGTERM ends the daemon within 5 s', async () => {
  const s = setup('hung');
  const flag = path.join(s.dir, 'hang-now');
  const wrapper = path.join(s.dir, 'nft-wrapper');
  writeFileSync(wrapper, `#!/bin/sh\nif [ -e ${flag} ]; then exec sleep 1000; fi\nexec nft "$@"\n`);
  chmodSync(wrapper, 0o755);
  writeFileSync(s.config, readFileSync(s.config, 'utf8').replace('action = ["nftables"]', `action = ["nftables[nft=\\"${wrapper}\\"]"]`));
  const d = await start(s);
  await burstIsBanned(s, '198.51.100.51');
  writeFileSync(flag, '');
  appendFileSync(s.log, [1, 2, 3].map(() => saslLine('198.51.100.52')).join('\n') + '\n');
  await waitFor('the ban recorded', () => cliJson<unknown[]>(s.socket, ['banned', 'postfix']).length === 2);
  await new Promise((r) => setTimeout(r, 300)); // the ban's nft call is hanging now
  const t0 = Date.now();
  d.child.kill('SIGTERM');
  await d.exited;
  running.splice(running.indexOf(d), 1);
  assert.ok(Date.now() - t0 < 5000, `stopped after ${Date.now() - t0} ms`);
  nft('delete', 'table', 'inet', 'pban-postfix'); // its stop command hung as well
});

for (const how of ['SIGTERM', '`pban stop`'] as const) {
  test(`with the firewall program hung at start, status lists the jail while starting, and ${how} ends the daemon within 5 s`, async () => {
    const s = setup(`hung-start-${how === 'SIGTERM' ? 'term' : 'stop'}`);
    const wrapper = path.join(s.dir, 'nft-wrapper');
    // Every call hangs: the start's batch waits for the 30 s command timeout.
    writeFileSync(wrapper, '#!/bin/sh\nexec sleep 1000\n');
    chmodSync(wrapper, 0o755);
    writeFileSync(s.config, readFileSync(s.config, 'utf8').replace('action = ["nftables"]', `action = ["nftables[nft=\\"${wrapper}\\"]"]`));
    const t0 = Date.now();
    // Not startDaemon(): it waits for daemon.started, which comes only after the timeout.
    const child = spawn(IN_NS[0]!, [...IN_NS.slice(1), process.execPath, PBAN_BIN, 'start', '-c', s.config], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // The jails load once the firewall has their bans, or after 3 s when it does not answer.
      const st = await waitFor('the jail in status while starting', () => {
        const r = cli(s.socket, ['status', '--json']);
        if (r.stdout === '') return undefined;
        const v = JSON.parse(r.stdout) as DaemonStatus;
        return v.jails.length > 0 ? { v, code: r.status } : undefined;
      }, 10_000);
      assert.ok(Date.now() - t0 < 8000, `the jail showed after ${Date.now() - t0} ms`);
      assert.equal(st.v.state, 'starting');
      assert.deepEqual(st.v.jails.map((j) => j.name), ['postfix']);
      assert.notEqual(st.code, 0, 'status does not say all is well while starting');
    } finally {
      const t1 = Date.now();
      if (how === 'SIGTERM') child.kill('SIGTERM');
      else assert.equal(cli(s.socket, ['stop']).status, 0);
      assert.equal(await exited, 0);
      assert.ok(Date.now() - t1 < 5000, `stopped after ${Date.now() - t1} ms`);
    }
  });
}
