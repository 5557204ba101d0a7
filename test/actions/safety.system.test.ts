// "Never silently unprotected", for one runner against the real kernel (nft, iptables, ipset
// inside a network namespace this file creates): ban ends beyond what the backend takes get its
// longest timeout; one element the firewall refuses never keeps the others out; a flushed set
// is refilled within one check interval; a second runner on the same objects is refused; a
// missing program is named; stop ends in time whatever the program does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Ban } from '../../src/events.js';
import { createAction, target, type ActionRunner, type ActionOptions, type ParamValue } from '../../src/actions/index.js';
import { must, rootSnapshot, run } from '../helpers/netns.js';
import { requireCommands } from '../helpers/system.js';

const NS = `pbansafe-${process.pid}`;
const inNs = ['ip', 'netns', 'exec', NS];
const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-safety-'));
const lockDir = path.join(dir, 'locks');
const W = 7 * 86_400_000;
let rootBefore: string;
const runners: ActionRunner[] = [];

before(() => {
  requireCommands(['ip', 'nft', 'iptables-nft', 'ipset']);
  rootBefore = rootSnapshot();
  if (run(['ip', 'netns', 'list']).stdout.split('\n').some((l) => l.split(' ')[0] === NS)) must(['ip', 'netns', 'del', NS]);
  must(['ip', 'netns', 'add', NS]);
});

after(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  run(['ip', 'netns', 'del', NS]);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(rootSnapshot(), rootBefore, 'the root namespace firewall changed');
});

const ns = (...argv: string[]) => must([...inNs, ...argv]);
const banOf = (t: string, until: number | null): Ban => ({ target: target(t), jail: 'safe', kind: 'manual', created: Date.now(), until, failures: 0, banNumber: 1 });

interface Logged {
  readonly events: Record<string, unknown>[];
}

function runner(action: string, active: Ban[], extra: Partial<ActionOptions> & { params?: Record<string, ParamValue> } = {}): ActionRunner & Logged {
  const events: Record<string, unknown>[] = [];
  // each record carries the health state at the moment it was logged
  const push = (o: object) => void events.push({ ...o, stateNow: r.health().state });
  const r: ActionRunner = createAction(action, {
    jail: 'safe', commandPrefix: inNs, activeBans: () => active, checkIntervalMs: 0, lockDir, retryFirstMs: 60_000,
    logger: { debug: () => undefined, info: push, warn: push, error: push },
    ...extra,
  });
  runners.push(r);
  return Object.assign(r, { events });
}

async function until(what: string, fn: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (!fn()) {
    if (Date.now() - start > ms) assert.fail(`timed out after ${ms} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

test('nftables: a 200-week ban goes in with nft\'s longest timeout, and a later ban of the same batch goes in too', async () => {
  const now = Date.now();
  const active = [banOf('198.51.100.7', now + 200 * W), banOf('198.51.100.8', now + 3_600_000)];
  const a = runner('nftables', []);
  assert.equal(await a.start(), true);
  assert.equal(await a.ban(active), true, JSON.stringify(a.health().lastError));
  const set = ns('nft', 'list', 'set', 'inet', 'pban-safe', 'host4');
  // 99999999 s, the most nft 1.0.6 takes in one `timeout Ns` (measured), printed as days
  assert.match(set, /198\.51\.100\.7 timeout 1157d9h46m39s/);
  assert.match(set, /198\.51\.100\.8 timeout 1h/);
  // and the next ban still lands: nothing the kernel refused is stuck in the batch
  assert.equal(await a.ban([banOf('198.51.100.9', now + 600_000)]), true);
  assert.match(ns('nft', 'list', 'set', 'inet', 'pban-safe', 'host4'), /198\.51\.100\.9 timeout/);
  assert.equal(a.health().state, 'healthy');
  await a.stop();
});

test('ipset: a 200-week ban goes in with ipset\'s longest timeout (2147483 s), the other ban of the batch too', async () => {
  const now = Date.now();
  const a = runner('ipset', [], { params: { variant: '-nft' } });
  assert.equal(await a.start(), true, JSON.stringify(a.health().lastError));
  assert.equal(await a.ban([banOf('198.51.100.7', now + 200 * W), banOf('2001:db8::/64', now + 3_600_000)]), true, JSON.stringify(a.health().lastError));
  const v4 = ns('ipset', 'list', 'pban-safe-4');
  const t = Number(/198\.51\.100\.7 timeout (\d+)/.exec(v4)?.[1]);
  assert.ok(t > 2_147_000 && t <= 2_147_483, `timeout ${t} in:\n${v4}`);
  assert.match(ns('ipset', 'list', 'pban-safe-6'), /2001:db8::\/64 timeout \d+/);
  await a.stop();
});

test('one element the firewall refuses: the rest of the batch goes in, the bad one is reported, later bans still land', async () => {
  const now = Date.now();
  // networks go to a set that does not exist: nft refuses every network ban
  const a = runner('nftables', [], { params: { set: { address: '{host_set}', network: 'nosuch{family}' } } });
  assert.equal(await a.start(), true);
  const ok = await a.ban([banOf('198.51.100.11', now + 600_000), banOf('203.0.113.0/24', now + 600_000), banOf('198.51.100.12', now + 600_000)]);
  assert.equal(ok, false, 'the batch was not taken whole');
  const set = ns('nft', 'list', 'set', 'inet', 'pban-safe', 'host4');
  assert.match(set, /198\.51\.100\.11/);
  assert.match(set, /198\.51\.100\.12/);
  const h = a.health();
  assert.equal(h.state, 'unhealthy');
  assert.equal(h.refused, 1);
  assert.equal(h.kernelEntries, 2);
  assert.match(h.lastError?.message ?? '', /refused the ban of 203\.0\.113\.0\/24/);
  assert.match(h.lastError?.stderr ?? '', /nosuch4/);
  const refused = a.events.find((e) => e['event'] === 'action.refused');
  assert.equal(refused?.['target'], '203.0.113.0/24');
  // the next ban goes in as usual
  assert.equal(await a.ban([banOf('198.51.100.13', now + 600_000)]), true);
  assert.match(ns('nft', 'list', 'set', 'inet', 'pban-safe', 'host4'), /198\.51\.100\.13/);
  // lifting the refused ban ends the complaint
  assert.equal(await a.unban([target('203.0.113.0/24')]), true);
  assert.equal(a.health().refused, 0);
  assert.equal(a.health().state, 'healthy');
  await a.stop();
});

test('a parameter that would become nft syntax is refused with one line', () => {
  for (const bad of ['pban; flush ruleset', 'x # comment', 'a"b', 'a\'b', '$var', 'a\\b']) {
    assert.throws(() => createAction('nftables', { jail: 'safe', activeBans: () => [], lockDir: null, params: { table: bad } }), (e: Error) => {
      assert.match(e.message, /^nftables: parameter "table": ".*" may only hold letters, digits, spaces/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
  assert.throws(() => createAction('iptables', { jail: 'safe', activeBans: () => [], lockDir: null, params: { chain: 'x;y' } }), /parameter "chain"/);
  assert.throws(() => createAction('ipset', { jail: 'safe', activeBans: () => [], lockDir: null, params: { maxelem: '10 -exist\ncreate x' } }), /without newlines/);
  // ordinary values pass: a priority expression, a reject with its type, a program path
  assert.doesNotThrow(() => createAction('nftables', { jail: 'safe', activeBans: () => [], lockDir: null, params: { priority: 'filter - 20', blocktype: 'reject with icmpx type admin-prohibited', nft: '/usr/sbin/nft' } }));
  // argv-only actions take any text as one argument
  assert.doesNotThrow(() => createAction('command', { jail: 'safe', activeBans: () => [], lockDir: null, params: { ban_command: ['/usr/local/bin/block;x', '{target}'] } }));
});

const FLUSHES: [string, Record<string, ParamValue>, () => void, (t: string) => boolean][] = [
  ['nftables', {}, () => void ns('nft', 'flush', 'set', 'inet', 'pban-safe', 'host4'), (t) => ns('nft', 'list', 'set', 'inet', 'pban-safe', 'host4').includes(t)],
  ['iptables', { variant: '-nft' }, () => void ns('iptables-nft', '-w', '-F', 'pban-safe'), (t) => ns('iptables-nft', '-w', '-S', 'pban-safe').includes(t)],
  ['ipset', { variant: '-nft' }, () => void ns('ipset', 'flush', 'pban-safe-4'), (t) => ns('ipset', 'list', 'pban-safe-4').includes(t)],
];

for (const [action, params, flush, holds] of FLUSHES) {
  test(`${action}: a flushed set (or chain) is refilled within one check interval; unhealthy until then`, async () => {
    const active = [banOf('198.51.100.21', Date.now() + 600_000)];
    const a = runner(action, active, { params, checkIntervalMs: 1000 });
    assert.equal(await a.start(), true, JSON.stringify(a.health().lastError));
    assert.ok(holds('198.51.100.21'));
    flush();
    assert.equal(holds('198.51.100.21'), false);
    const took = await until('the ban back in the kernel', () => holds('198.51.100.21'), 2500);
    assert.ok(took <= 2500, `repaired after ${took} ms`);
    await until('healthy again', () => a.health().state === 'healthy', 1000);
    const missing = a.events.find((e) => e['event'] === 'action.missing');
    assert.match(String(missing?.['problem']), /1 ban\(s\) missing from the kernel/);
    assert.equal(missing?.['stateNow'], 'unhealthy', 'unhealthy while the kernel lacks the ban');
    const recovered = a.events.find((e) => e['event'] === 'action.recovered');
    assert.equal(recovered?.['stateNow'], 'healthy', 'healthy once it is back');
    await a.stop();
  });
}

test('a second runner on the same firewall objects is refused and changes nothing; the first one\'s set stays', async () => {
  const active = [banOf('198.51.100.31', Date.now() + 600_000)];
  const first = runner('nftables', active);
  assert.equal(await first.start(), true);
  const second = runner('nftables', []);
  assert.throws(() => second.lock(), /firewall object "nft-inet-pban-safe" is already used by another action of this pban \(lock .*locks\/nft-inet-pban-safe@net\d+\.lock\)/);
  assert.equal(await second.start(), false);
  assert.match(second.health().lastError?.message ?? '', /already used/);
  assert.match(ns('nft', 'list', 'set', 'inet', 'pban-safe', 'host4'), /198\.51\.100\.31/, 'the first runner\'s ban is still there');
  await second.stop();
  assert.match(ns('nft', 'list', 'set', 'inet', 'pban-safe', 'host4'), /198\.51\.100\.31/, 'stopping the refused runner removed nothing');
  // another jail, or the same jail in another namespace, is another object
  const other = runner('nftables', [], { jail: 'other' });
  assert.doesNotThrow(() => other.lock());
  const elsewhere = runner('nftables', [], { commandPrefix: [] });
  assert.doesNotThrow(() => elsewhere.lock());
  elsewhere.unlock();
  other.unlock();
  // once the first one stops, the lock is free
  await first.stop();
  assert.doesNotThrow(() => second.lock());
  second.unlock();
});

test('a lock left by a process that is gone, or whose pid now belongs to a younger process, is taken over', async () => {
  const dirOf = path.join(dir, 'stale-locks');
  mkdirSync(dirOf, { recursive: true });
  const a = runner('nftables', [], { lockDir: dirOf });
  a.lock();
  const [file] = readdirSync(dirOf);
  assert.ok(file, 'one lock file');
  a.unlock();
  assert.deepEqual(readdirSync(dirOf), [], 'unlock removes the file');
  const lockFile = path.join(dirOf, file);
  // a pid that exited
  const gone = spawnSync('true').pid;
  writeFileSync(lockFile, `${gone}\n`);
  assert.doesNotThrow(() => a.lock());
  a.unlock();
  // a live process that started after the lock was written: the pid was reused
  const young = spawn('sleep', ['30'], { stdio: 'ignore' });
  writeFileSync(lockFile, `${young.pid}\n`);
  const past = new Date(Date.now() - 60_000);
  utimesSync(lockFile, past, past);
  try {
    assert.doesNotThrow(() => a.lock());
    a.unlock();
  } finally {
    young.kill('SIGKILL');
  }
  // a live process older than the lock file (pid 1 started at boot): it holds it
  writeFileSync(lockFile, '1\n');
  assert.throws(() => a.lock(), /already used by pban process 1 /);
  rmSync(lockFile);
});

test('missing programs are named: the firewall program, a command action\'s program', () => {
  const nft = createAction('nftables', { jail: 'safe', activeBans: () => [], lockDir: null, params: { nft: '/nonexistent/nft' } });
  assert.match(nft.missingPrograms() ?? '', /^action nftables: program "\/nonexistent\/nft" not found or not executable$/);
  const ipt = createAction('iptables', { jail: 'safe', activeBans: () => [], lockDir: null, params: { variant: '-nosuch' } });
  assert.match(ipt.missingPrograms() ?? '', /programs "iptables-nosuch-restore", "ip6tables-nosuch-restore", "iptables-nosuch", "ip6tables-nosuch" not found/);
  const cmd = createAction('command', { jail: 'safe', activeBans: () => [], lockDir: null, params: { ban_command: ['/nonexistent/block', '{target}'] } });
  assert.match(cmd.missingPrograms() ?? '', /"\/nonexistent\/block"/);
  const notExec = path.join(dir, 'not-executable');
  writeFileSync(notExec, '#!/bin/sh\n');
  assert.match(createAction('nftables', { jail: 'safe', activeBans: () => [], lockDir: null, params: { nft: notExec } }).missingPrograms() ?? '', /not found or not executable/);
  assert.equal(createAction('nftables', { jail: 'safe', activeBans: () => [], lockDir: null }).missingPrograms(), undefined);
  assert.equal(createAction('dry-run', { jail: 'safe', activeBans: () => [], lockDir: null }).missingPrograms(), undefined);
});

test('stop ends within its budget while the firewall program hangs, and kills it', async () => {
  const hang = path.join(dir, 'hang');
  const pidFile = path.join(dir, 'hang.pid');
  writeFileSync(hang, `#!/bin/sh\necho $$ >> ${pidFile}\nexec sleep 1000\n`);
  chmodSync(hang, 0o755);
  const a = runner('nftables', [banOf('198.51.100.41', Date.now() + 600_000)], { commandPrefix: [], params: { nft: hang }, stopTimeoutMs: 3000 });
  const started = a.start();
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  await a.stop();
  const took = Date.now() - t0;
  assert.ok(took < 3500, `stop took ${took} ms`);
  assert.equal(await started, false);
  assert.equal(a.health().state, 'stopped');
  // no program we started is left running
  const { readFileSync } = await import('node:fs');
  for (const pid of readFileSync(pidFile, 'utf8').trim().split('\n').map(Number)) {
    await until(`hung program ${pid} gone`, () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 2000);
  }
});

test('stop with the firewall program missing is immediate, and no retry keeps the process busy', async () => {
  const a = runner('nftables', [banOf('198.51.100.42', Date.now() + 600_000)], { commandPrefix: [], params: { nft: '/nonexistent/nft' }, retryFirstMs: 10 });
  assert.equal(await a.start(), false);
  assert.match(a.health().lastError?.message ?? '', /ENOENT/);
  const t0 = Date.now();
  await a.stop();
  assert.ok(Date.now() - t0 < 1000, `stop took ${Date.now() - t0} ms`);
});
