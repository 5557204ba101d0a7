// The runner with a recording executor: the exact commands each shipped action emits, and
// the reliability rules (failure → unhealthy → repair in one batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ban } from '../../src/events.js';
import { ManualClock } from '../../src/clock.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAction, parseActionDefinition, RecordingExecutor, target, type ActionLogger, type CommandResult } from '../../src/actions/index.js';

const NOW = 1_800_000_000_000;
const ban = (t: string, until: number | null = NOW + 600_000): Ban => ({ target: target(t), jail: 'postfix', kind: 'address', created: NOW, until, failures: 5, banNumber: 1 });
const OK: CommandResult = { status: 0, stdout: '', stderr: '' };

function setup(name: string, opts: { ports?: number[]; params?: Record<string, string | string[]>; active?: Ban[]; respond?: (argv: readonly string[], stdin?: string) => CommandResult } = {}) {
  const exec = new RecordingExecutor(opts.respond ?? (() => OK));
  const active = opts.active ?? [];
  const action = createAction(name, {
    jail: 'postfix', ports: opts.ports ?? [25, 465, 587], params: opts.params, executor: exec, clock: new ManualClock(NOW),
    activeBans: () => active, checkIntervalMs: 0, commandPrefix: ['ip', 'netns', 'exec', 'ns1'], retryFirstMs: 60_000,
    // a recording executor touches no firewall: nothing to lock
    lockDir: null,
  });
  return { exec, action, active };
}

test('nftables: start, a v4 ban, a v6 ban, unban, stop', async () => {
  const { exec, action } = setup('nftables');
  assert.equal(await action.start(), true);
  assert.deepEqual(exec.calls[0]?.argv, ['ip', 'netns', 'exec', 'ns1', 'nft', '-f', '-']);
  assert.equal(exec.calls[0]?.stdin, [
    'add table inet pban-postfix',
    'add set inet pban-postfix host4 { type ipv4_addr; flags timeout; }',
    'add set inet pban-postfix net4 { type ipv4_addr; flags interval, timeout; }',
    'add chain inet pban-postfix input4 { type filter hook input priority filter - 10; policy accept; }',
    'flush chain inet pban-postfix input4',
    'add rule inet pban-postfix input4 ip saddr @host4 meta l4proto tcp th dport { 25,465,587 } drop',
    'add rule inet pban-postfix input4 ip saddr @net4 meta l4proto tcp th dport { 25,465,587 } drop',
    'flush set inet pban-postfix host4',
    'flush set inet pban-postfix net4',
    'add table inet pban-postfix',
    'add set inet pban-postfix host6 { type ipv6_addr; flags timeout; }',
    'add set inet pban-postfix net6 { type ipv6_addr; flags interval, timeout; }',
    'add chain inet pban-postfix input6 { type filter hook input priority filter - 10; policy accept; }',
    'flush chain inet pban-postfix input6',
    'add rule inet pban-postfix input6 ip6 saddr @host6 meta l4proto tcp th dport { 25,465,587 } drop',
    'add rule inet pban-postfix input6 ip6 saddr @net6 meta l4proto tcp th dport { 25,465,587 } drop',
    'flush set inet pban-postfix host6',
    'flush set inet pban-postfix net6',
    '',
  ].join('\n'));
  exec.calls.length = 0;
  // one at a time (each awaited): one call each
  await action.ban([ban('192.0.2.1')]);
  await action.ban([ban('2001:db8::/64', null)]);
  await action.ban([ban('2001:db8:1::7'), ban('198.51.100.0/24')]);
  await action.unban([target('192.0.2.1')]);
  await action.unban([target('2001:db8::/64')]);
  await action.stop();
  assert.deepEqual(exec.calls.map((c) => [c.argv.slice(4).join(' '), c.stdin]), [
    // an address goes in the plain set without its /32, a network in the interval set
    ['nft -f -', 'add element inet pban-postfix host4 { 192.0.2.1 timeout 600s }\n'],
    ['nft -f -', 'add element inet pban-postfix net6 { 2001:db8::/64 }\n'],
    ['nft -f -', 'add element inet pban-postfix net4 { 198.51.100.0/24 timeout 600s }\nadd element inet pban-postfix host6 { 2001:db8:1::7 timeout 600s }\n'],
    ['nft -f -', 'delete element inet pban-postfix host4 { 192.0.2.1 }\n'],
    ['nft -f -', 'delete element inet pban-postfix net6 { 2001:db8::/64 }\n'],
    ['nft delete table inet pban-postfix', undefined],
  ]);
});

test('nftables: an address inside a banned network stays out of the address set; lifting the network puts it there', async () => {
  const active = [ban('198.51.100.0/24'), ban('198.51.100.7')];
  const { exec, action } = setup('nftables', { active });
  await action.start();
  assert.match(exec.calls[0]?.stdin ?? '', /^flush set inet pban-postfix net4\nadd element inet pban-postfix net4 \{ 198\.51\.100\.0\/24 timeout 600s \}\n/m);
  assert.doesNotMatch(exec.calls[0]?.stdin ?? '', /198\.51\.100\.7/);
  exec.calls.length = 0;
  assert.equal(await action.ban([ban('198.51.100.7')]), true);
  assert.equal(exec.calls.length, 0, 'covered: nothing to do');
  active.shift(); // the store lifts the network
  await action.unban([target('198.51.100.0/24')]);
  assert.deepEqual(exec.calls.map((c) => c.stdin), [
    'delete element inet pban-postfix net4 { 198.51.100.0/24 }\nadd element inet pban-postfix host4 { 198.51.100.7 timeout 600s }\n',
  ]);
  // a network over addresses already in: they leave the address set in the same batch
  exec.calls.length = 0;
  await action.ban([ban('198.51.100.0/25', null)]);
  assert.deepEqual(exec.calls.map((c) => c.stdin), [
    'delete element inet pban-postfix host4 { 198.51.100.7 }\nadd element inet pban-postfix net4 { 198.51.100.0/25 }\n',
  ]);
});

test('bans asked for while the firewall is busy go in together, in one call, in order with unbans', async () => {
  let release: () => void = () => undefined;
  const exec = new RecordingExecutor(() => OK);
  const gate = new Promise<void>((r) => (release = r));
  const slow = { run: async (argv: readonly string[], stdin?: string) => {
    const r = await exec.run(argv, stdin);
    if (exec.calls.length === 2) await gate; // the first ban holds the queue
    return r;
  } };
  const action = createAction('nftables', { jail: 'postfix', executor: slow, clock: new ManualClock(NOW), lockDir: null, activeBans: () => [], checkIntervalMs: 0 });
  await action.start();
  const first = action.ban([ban('192.0.2.1')]);
  await new Promise((r) => setImmediate(r)); // it has started, and blocks
  const results = [
    first,
    action.ban([ban('192.0.2.2')]), // these three wait together
    action.ban([ban('192.0.2.3'), ban('2001:db8::3')]),
    action.ban([ban('192.0.2.4')]),
    action.unban([target('192.0.2.2')]), // closes the group: what follows comes after it
    action.unban([target('192.0.2.3')]),
    action.ban([ban('192.0.2.2')]),
    action.ban([ban('192.0.2.5')]),
  ];
  await new Promise((r) => setTimeout(r, 10));
  release();
  assert.deepEqual(await Promise.all(results), [true, true, true, true, true, true, true, true]);
  assert.deepEqual(exec.calls.slice(1).map((c) => c.stdin), [
    'add element inet pban-postfix host4 { 192.0.2.1 timeout 600s }\n',
    // consecutive elements of one set go in as one nft command (merge_elements)
    'add element inet pban-postfix host4 { 192.0.2.2 timeout 600s, 192.0.2.3 timeout 600s, 192.0.2.4 timeout 600s }\n' +
      'add element inet pban-postfix host6 { 2001:db8::3 timeout 600s }\n',
    'delete element inet pban-postfix host4 { 192.0.2.2, 192.0.2.3 }\n',
    'add element inet pban-postfix host4 { 192.0.2.2 timeout 600s, 192.0.2.5 timeout 600s }\n',
  ]);
  assert.equal(action.health().kernelEntries, 5); // .1 .2 .4 .5 and 2001:db8::3
  await action.stop();
});

test('a ban never joins a group queued before a check, a flush or a stop', async () => {
  const exec = new RecordingExecutor(() => OK);
  const action = createAction('nftables', { jail: 'postfix', executor: exec, clock: new ManualClock(NOW), lockDir: null, activeBans: () => [], checkIntervalMs: 0 });
  await action.start();
  exec.calls.length = 0;
  const a = action.ban([ban('192.0.2.1')]);
  const f = action.flush();
  const b = action.ban([ban('192.0.2.2')]);
  const s = action.stop();
  const c = action.ban([ban('192.0.2.3')]);
  assert.deepEqual(await Promise.all([a, f, b, s, c]), [true, true, true, undefined, false]);
  assert.deepEqual(exec.calls.map((x) => x.stdin ?? x.argv.join(' ')), [
    'add element inet pban-postfix host4 { 192.0.2.1 timeout 600s }\n',
    'flush set inet pban-postfix host4\nflush set inet pban-postfix net4\nflush set inet pban-postfix host6\nflush set inet pban-postfix net6\n',
    'add element inet pban-postfix host4 { 192.0.2.2 timeout 600s }\n',
    'nft delete table inet pban-postfix',
  ]);
});

test('nftables without ports blocks everything; a reject blocktype', async () => {
  const { exec, action } = setup('nftables', { ports: [], params: { blocktype: 'reject' } });
  await action.start();
  assert.match(exec.calls[0]?.stdin ?? '', /^add rule inet pban-postfix input4 ip saddr @host4  reject$/m);
  assert.match(exec.calls[0]?.stdin ?? '', /^add rule inet pban-postfix input4 ip saddr @net4  reject$/m);
});

test('iptables: one restore per family, -C before -I, bans batched', async () => {
  // -C answers "absent" so the jump is inserted
  const { exec, action } = setup('iptables', { params: { variant: '-legacy' }, respond: (argv) => (argv.includes('-C') ? { status: 1, stdout: '', stderr: 'Bad rule' } : OK) });
  await action.start();
  await action.ban([ban('192.0.2.1'), ban('198.51.100.0/24'), ban('2001:db8::1')]);
  assert.deepEqual(exec.calls.map((c) => [c.argv.slice(4).join(' '), c.stdin]), [
    ['iptables-legacy-restore -w --noflush', '*filter\n:pban-postfix - [0:0]\n:pban-postfix - [0:0]\nCOMMIT\n'],
    ['ip6tables-legacy-restore -w --noflush', '*filter\n:pban-postfix - [0:0]\n:pban-postfix - [0:0]\nCOMMIT\n'],
    ['iptables-legacy -w -C INPUT -p tcp -m multiport --dports 25,465,587 -j pban-postfix', undefined],
    ['iptables-legacy -w -I INPUT -p tcp -m multiport --dports 25,465,587 -j pban-postfix', undefined],
    ['ip6tables-legacy -w -C INPUT -p tcp -m multiport --dports 25,465,587 -j pban-postfix', undefined],
    ['ip6tables-legacy -w -I INPUT -p tcp -m multiport --dports 25,465,587 -j pban-postfix', undefined],
    ['iptables-legacy-restore -w --noflush', '*filter\n-A pban-postfix -s 198.51.100.0/24 -j DROP\n-A pban-postfix -s 192.0.2.1/32 -j DROP\nCOMMIT\n'],
    ['ip6tables-legacy-restore -w --noflush', '*filter\n-A pban-postfix -s 2001:db8::1/128 -j DROP\nCOMMIT\n'],
  ]);
});

test('ipset: one restore for both families; permanent bans get timeout 0; longer bans than ipset takes get its longest timeout', async () => {
  const { exec, action } = setup('ipset', { ports: [] });
  await action.start();
  exec.calls.length = 0;
  await action.ban([ban('192.0.2.1'), ban('2001:db8::/48', null), ban('192.0.2.9', NOW + 3_000_000_000)]);
  await action.unban([target('192.0.2.1'), target('203.0.113.7')]);
  assert.deepEqual(exec.calls.map((c) => [c.argv.slice(4).join(' '), c.stdin]), [
    ['ipset restore', 'add pban-postfix-4 192.0.2.1/32 timeout 600 -exist\nadd pban-postfix-4 192.0.2.9/32 timeout 2147483 -exist\nadd pban-postfix-6 2001:db8::/48 timeout 0 -exist\n'],
    ['ipset restore', 'del pban-postfix-4 192.0.2.1/32 -exist\n'],
  ]);
});

test('command: user argv per target, empty commands are skipped', async () => {
  const { exec, action } = setup('command', { params: { ban_command: ['/usr/local/sbin/block', '{target}', '{bantime}'], unban_command: ['/usr/local/sbin/unblock', '{addr}', '{prefix}'] } });
  await action.start();
  await action.ban([ban('192.0.2.1'), ban('2001:db8::1', null)]);
  await action.unban([target('192.0.2.1')]);
  await action.stop();
  assert.deepEqual(exec.calls.map((c) => c.argv.slice(4)), [
    ['/usr/local/sbin/block', '192.0.2.1/32', '600'],
    ['/usr/local/sbin/block', '2001:db8::1/128', '0'],
    ['/usr/local/sbin/unblock', '192.0.2.1', '32'],
  ]);
});

test('dry-run runs nothing', async () => {
  const logged: unknown[] = [];
  const exec = new RecordingExecutor();
  const action = createAction('dry-run', {
    jail: 'postfix', executor: exec, activeBans: () => [], checkIntervalMs: 0, lockDir: null,
    logger: { debug: () => undefined, info: (o) => logged.push(o), warn: () => undefined, error: () => undefined },
  });
  await action.start();
  assert.equal(await action.ban([ban('192.0.2.1')]), true);
  assert.equal(exec.calls.length, 0);
  assert.deepEqual((logged[0] as { argv: string[] }).argv.slice(0, 3), ['ban', '192.0.2.1/32', 'jail=postfix']);
});

test('a failing batch: logged with stderr, unhealthy, check finds the table gone, one repair batch with every active ban', async () => {
  let broken = true;
  const errors: Record<string, unknown>[] = [];
  const active = [ban('192.0.2.1')];
  const exec = new RecordingExecutor((argv) => (broken && argv.includes('list') ? { status: 1, stdout: '', stderr: 'Error: No such file or directory' } : broken && argv.includes('-f') ? { status: 1, stdout: '', stderr: 'Error: Could not process rule: No such file or directory' } : OK));
  const action = createAction('nftables', {
    jail: 'postfix', executor: exec, activeBans: () => active, checkIntervalMs: 0, retryFirstMs: 60_000, clock: new ManualClock(NOW), lockDir: null,
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (o) => errors.push(o as Record<string, unknown>) },
  });
  broken = false;
  await action.start();
  broken = true;
  active.push(ban('192.0.2.2')); // the store records the ban before the action runs
  assert.equal(await action.ban([ban('192.0.2.2')]), false);
  const h = action.health();
  assert.equal(h.state, 'unhealthy');
  assert.match(h.lastError?.stderr ?? '', /No such file or directory/);
  assert.equal(errors[0]?.['event'], 'action.failed');
  assert.match(String(errors[0]?.['stderr']), /No such file/);
  // the kernel works again: a check rebuilds everything in one batch
  broken = false;
  exec.calls.length = 0;
  assert.equal(await action.check(), true);
  assert.equal(action.health().state, 'healthy');
  const batches = exec.calls.filter((c) => c.argv.includes('-f'));
  assert.equal(batches.length, 1);
  assert.match(batches[0]?.stdin ?? '', /add element inet pban-postfix host4 \{ 192\.0\.2\.1 timeout 600s, 192\.0\.2\.2 timeout/);
  await action.stop();
});

test('bad options are refused with one clear line', () => {
  const base = { activeBans: () => [], checkIntervalMs: 0, lockDir: null };
  assert.throws(() => createAction('nftables', { ...base, jail: 'bad jail' }), /jail name "bad jail"/);
  assert.throws(() => createAction('nftables', { ...base, jail: 'j', ports: ['no-such-service'] }), /unknown service name "no-such-service"/);
  assert.throws(() => createAction('nftables', { ...base, jail: 'j', ports: ['70000'] }), /invalid port "70000"/);
  assert.throws(() => createAction('nftables', { ...base, jail: 'j', params: { tabel: 'x' } }), /unknown parameter "tabel"/);
  assert.throws(() => createAction('nftables', { ...base, jail: 'j', params: { table: 'x\ny' } }), /without newlines/);
  assert.throws(() => createAction('nftables', { ...base, jail: 'j', params: { table: '{nope}' } }), /unknown placeholder \{nope\}/);
  // the table exists without a target: it cannot depend on one
  assert.throws(() => createAction('nftables', { ...base, jail: 'j', params: { table: 'pban-{set}' } }), /parameter "table": used where there is no target/);
  assert.throws(() => createAction('nftables', { ...base, jail: 'j', params: { host_set: { address: 'a', network: 'b' } } }), /parameter "host_set": used where there is no target/);
  // where there is one, it may: every target in one interval set
  assert.doesNotThrow(() => createAction('nftables', { ...base, jail: 'j', params: { set: 'net{family}', element: '{target}' } }));
});

test('nftables: lifting many networks empties the sets of that family and refills what stays, in one batch; many addresses are deleted', async () => {
  const { exec, action } = setup('nftables');
  await action.start();
  const nets = Array.from({ length: 300 }, (_, i) => ban(`198.19.${i >> 4}.${(i & 15) << 4}/28`));
  const hosts = Array.from({ length: 300 }, (_, i) => ban(`198.18.${i >> 8}.${i & 255}`));
  await action.ban([...nets, ...hosts, ban('2001:db8::1')]);
  exec.calls.length = 0;
  // 250 addresses: deleted one by one (a plain set deletes fast)
  await action.unban([...hosts.slice(0, 250).map((b) => b.target), target('2001:db8::1')]);
  // elements in the lines that start with `command` (merged lines carry many)
  const elements = (ls: string[], command: string): number =>
    ls.filter((l) => l.startsWith(command)).reduce((n, l) => n + l.slice(l.indexOf('{') + 1, l.lastIndexOf('}')).split(',').length, 0);
  let lines = (exec.calls[0]?.stdin ?? '').trim().split('\n');
  assert.equal(elements(lines, 'delete element inet pban-postfix host4 '), 250);
  assert.ok(lines.includes('delete element inet pban-postfix host6 { 2001:db8::1 }'));
  assert.equal(lines.length, 2);
  // 250 networks: the IPv4 sets are emptied and what stays goes back in
  exec.calls.length = 0;
  await action.unban(nets.slice(0, 250).map((b) => b.target));
  assert.equal(exec.calls.length, 1);
  lines = (exec.calls[0]?.stdin ?? '').trim().split('\n');
  assert.deepEqual(lines.slice(0, 2), ['flush set inet pban-postfix host4', 'flush set inet pban-postfix net4']);
  assert.equal(elements(lines, 'add element inet pban-postfix net4 '), 50);
  assert.equal(elements(lines, 'add element inet pban-postfix host4 '), 50);
  assert.equal(action.health().kernelEntries, 100);
});

test('unhealthy: a new ban tries the repair at once (at most once a second) instead of waiting for the backoff', async () => {
  let broken = false;
  const clock = new ManualClock(NOW);
  const active: Ban[] = [];
  const exec = new RecordingExecutor((argv) => (broken ? { status: 1, stdout: '', stderr: 'Error: boom' } : OK));
  const action = createAction('nftables', { jail: 'postfix', executor: exec, lockDir: null, activeBans: () => active, checkIntervalMs: 0, retryFirstMs: 600_000, clock });
  await action.start();
  broken = true;
  active.push(ban('192.0.2.1'));
  assert.equal(await action.ban([ban('192.0.2.1')]), false);
  assert.equal(action.health().state, 'unhealthy');
  broken = false;
  active.push(ban('192.0.2.2'));
  assert.equal(await action.ban([ban('192.0.2.2')]), false, 'within a second of the last attempt: wait');
  clock.advance(1_500);
  const before = exec.calls.length;
  assert.equal(await action.ban([ban('192.0.2.2')]), true);
  assert.equal(action.health().state, 'healthy');
  assert.equal(action.health().kernelEntries, 2);
  assert.match(exec.calls[before]?.stdin ?? '', /192\.0\.2\.1 timeout[\s\S]*192\.0\.2\.2 timeout/);
  await action.stop();
});

test('a failure reaches the pban logger as one action.failed record with argv and stderr', async () => {
  const { createLogger } = await import('../../src/log.js');
  const lines: string[] = [];
  const logger: ActionLogger = createLogger({ pretty: false, level: 'info', destination: { write: (s: string) => lines.push(s) } });
  const exec = new RecordingExecutor(() => ({ status: 1, stdout: '', stderr: 'Error: Could not process rule: Operation not permitted\n' }));
  const action = createAction('nftables', { jail: 'postfix', executor: exec, lockDir: null, activeBans: () => [], checkIntervalMs: 0, retryFirstMs: 600_000, logger });
  assert.equal(await action.start(), false);
  const rec = JSON.parse(lines.find((l) => l.includes('action.failed')) ?? '{}') as Record<string, unknown>;
  assert.equal(rec['event'], 'action.failed');
  assert.deepEqual(rec['argv'], ['nft', '-f', '-']);
  assert.equal(rec['stderr'], 'Error: Could not process rule: Operation not permitted');
  assert.equal(action.health().state, 'unhealthy');
  await action.stop();
});

test('a capped kernel timeout is renewed by the periodic check before it runs out', async () => {
  const clock = new ManualClock(NOW);
  const exec = new RecordingExecutor(() => OK);
  const action = createAction('ipset', { jail: 'postfix', executor: exec, clock, activeBans: () => [], checkIntervalMs: 0, lockDir: null });
  await action.start();
  await action.ban([ban('192.0.2.9', NOW + 200 * 7 * 86_400_000)]);
  assert.match(exec.calls.at(-1)?.stdin ?? '', /add pban-postfix-4 192\.0\.2\.9\/32 timeout 2147483 -exist/);
  clock.advance(2_147_483_000 - 1_800_000); // half an hour before the kernel would drop it
  exec.calls.length = 0;
  await action.check();
  assert.equal(exec.calls[0]?.stdin, 'del pban-postfix-4 192.0.2.9/32 -exist\nadd pban-postfix-4 192.0.2.9/32 timeout 2147483 -exist\n');
  await action.stop();
});

test('one element the firewall refuses is found by halving the batch: every other one goes in, with a few calls', async () => {
  const kernel = new Set<string>();
  const exec = new RecordingExecutor((argv, stdin) => {
    if (argv.includes('list')) return { status: 0, stdout: 'ip saddr @host4 drop\nip saddr @net4 drop\n', stderr: '' };
    if (!argv.includes('-f')) return OK;
    if (stdin?.includes('198.51.100.66')) return { status: 1, stdout: '', stderr: 'Error: Could not process rule: Invalid argument\n' };
    // nft merges consecutive elements of a set into one line: `{ a timeout 1s, b timeout 1s }`
    for (const m of (stdin ?? '').matchAll(/add element inet pban-postfix host4 \{ ([^}]*) \}/g)) {
      for (const el of m[1]!.split(', ')) kernel.add(el.split(' ')[0]!);
    }
    return OK;
  });
  const errors: Record<string, unknown>[] = [];
  const action = createAction('nftables', {
    jail: 'postfix', executor: exec, clock: new ManualClock(NOW), activeBans: () => [], checkIntervalMs: 0, lockDir: null,
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (o) => errors.push(o as Record<string, unknown>) },
  });
  await action.start();
  exec.calls.length = 0;
  const bans = Array.from({ length: 100 }, (_, i) => ban(`198.51.100.${i + 1}`));
  assert.equal(await action.ban(bans), false);
  assert.equal(kernel.size, 99);
  assert.ok(!kernel.has('198.51.100.66'));
  const batches = exec.calls.filter((c) => c.argv.includes('-f')).length;
  assert.ok(batches <= 2 * Math.ceil(Math.log2(100)) + 1, `${batches} batches`);
  assert.deepEqual(errors.map((e) => [e['event'], e['target']]), [['action.refused', '198.51.100.66/32']]);
  assert.equal(action.health().refused, 1);
  assert.equal(action.health().kernelEntries, 99);
  await action.stop();
});

test('a batch that fails for every element is not split without end: it counts as a failure of the action', async () => {
  let broken = false;
  const exec = new RecordingExecutor((argv): CommandResult => {
    if (argv.includes('list')) return { status: 0, stdout: 'ip saddr @host4 drop\nip saddr @net4 drop\n', stderr: '' };
    return argv.includes('-f') && broken ? { status: 1, stdout: '', stderr: 'Error: out of memory\n' } : OK;
  });
  const action = createAction('nftables', { jail: 'postfix', executor: exec, clock: new ManualClock(NOW), activeBans: () => [], checkIntervalMs: 0, lockDir: null, retryFirstMs: 600_000 });
  await action.start();
  exec.calls.length = 0;
  broken = true;
  assert.equal(await action.ban(Array.from({ length: 1000 }, (_, i) => ban(`198.18.${i >> 8}.${i & 255}`))), false);
  assert.ok(exec.calls.filter((c) => c.argv.includes('-f')).length <= 70, `${exec.calls.length} calls`);
  assert.equal(action.health().state, 'unhealthy');
  await action.stop();
});

test('a delete the firewall refuses (the element is already gone) is a warning: the rest goes in, the action stays healthy', async () => {
  const warnings: Record<string, unknown>[] = [];
  const exec = new RecordingExecutor((argv, stdin): CommandResult => {
    if (argv.includes('list')) return { status: 0, stdout: 'ip saddr @host4 drop\nip saddr @net4 drop\n', stderr: '' };
    if (/delete element inet pban-postfix host4 \{[^}]*\b192\.0\.2\.5\b/.test(stdin ?? '')) return { status: 1, stdout: '', stderr: 'Error: Could not process rule: No such file or directory\n' };
    return OK;
  });
  const action = createAction('nftables', {
    jail: 'postfix', executor: exec, clock: new ManualClock(NOW), activeBans: () => [], checkIntervalMs: 0, lockDir: null,
    logger: { debug: () => undefined, info: () => undefined, warn: (o) => warnings.push(o as Record<string, unknown>), error: (o) => warnings.push(o as Record<string, unknown>) },
  });
  await action.start();
  await action.ban([ban('192.0.2.5'), ban('192.0.2.6')]);
  exec.calls.length = 0;
  assert.equal(await action.unban([target('192.0.2.5'), target('192.0.2.6')]), true);
  assert.ok(exec.calls.some((c) => c.stdin === 'delete element inet pban-postfix host4 { 192.0.2.6 }\n'), 'the other delete went in on its own');
  assert.deepEqual(warnings.map((w) => [w['event'], w['change'], w['target']]), [['action.refused', 'delete', '192.0.2.5/32']]);
  assert.equal(action.health().state, 'healthy');
  assert.equal(action.health().kernelEntries, 0);
  await action.stop();
});

test("command: a ban's failures and kinds reach ban_command as single arguments and stdin lines; a string with spaces for a list is refused", async () => {
  const { exec, action } = setup('command', { params: { ban_command: ['/bin/notify', '{target}', 'failures={failures}', '{kinds}', '{ban_kind}', '{ban_number}'] } });
  await action.start();
  const b: Ban = { ...ban('192.0.2.9'), failures: 7, kinds: ['sasl', 'relay probe'], banNumber: 3 };
  await action.ban([b]);
  assert.deepEqual(exec.calls.map((c) => c.argv.slice(4)), [['/bin/notify', '192.0.2.9/32', 'failures=7', 'sasl,relay probe', 'address', '3']]);
  assert.throws(() => setup('command', { params: { ban_command: '/bin/notify {target}' } }), /ban_command" is a list .*\["\/bin\/notify", "\{target\}"\]/);
  assert.throws(() => setup('command', { params: { unban_command: ['/bin/x', '{failures}'] } }), /unban_command": uses a ban's values/);
});

test('norestored: start and repair take the active bans in without announcing them; a new ban is announced once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pban-norestored-'));
  const file = path.join(dir, 'notify.toml');
  writeFileSync(file, [
    'norestored = true',
    '[ban]',
    'run = [{ argv = ["/bin/notify", "{target}", "{failures}"], stdin = ["banned {target}", "kinds: {kinds}"] }]',
    '[unban]',
    'run = [["/bin/lifted", "{target}"]]',
  ].join('\n'));
  const exec = new RecordingExecutor(() => OK);
  const action = createAction(file, { jail: 'postfix', executor: exec, clock: new ManualClock(NOW), activeBans: () => [ban('192.0.2.1')], checkIntervalMs: 0, lockDir: null });
  assert.equal(await action.start(), true);
  assert.deepEqual(exec.calls, []);
  await action.ban([ban('192.0.2.1')]); // already known: not again
  await action.ban([{ ...ban('192.0.2.2'), kinds: ['sasl'] }]);
  await action.unban([target('192.0.2.2')]);
  assert.deepEqual(exec.calls, [
    { argv: ['/bin/notify', '192.0.2.2/32', '5'], stdin: 'banned 192.0.2.2/32\nkinds: sasl\n' },
    { argv: ['/bin/lifted', '192.0.2.2/32'], stdin: undefined },
  ]);
  assert.throws(() => parseActionDefinition('x.toml', 'norestored = true\n[batch]\nargv = ["nft", "-f", "-"]\n[ban]\neach = ["x"]\n[unban]\neach = ["y"]\n'), /x\.toml:1: norestored: only for actions without a \[batch\]/);
  assert.throws(() => parseActionDefinition('x.toml', '[ban]\nrun = [["a"]]\n[unban]\nrun = [["b", "{kinds}"]]\n'), /x\.toml:3: unban\.run\[0\]: \{kinds\} exists only in ban\.run/);
});

test('setCheckInterval: a runner started without a periodic check gets one at the new interval (a reload)', async () => {
  const exec = new RecordingExecutor(() => OK);
  const action = createAction('nftables', { jail: 'postfix', executor: exec, clock: new ManualClock(NOW), lockDir: null, activeBans: () => [], checkIntervalMs: 0 });
  assert.equal(await action.start(), true);
  const checks = (): number => exec.calls.filter((c) => c.argv.join(' ').includes('list chain')).length;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(checks(), 0, 'no periodic check with interval 0');
  action.setCheckInterval(20);
  const deadline = Date.now() + 5000;
  while (checks() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(checks() > 0, 'the check ran at the new interval');
  await action.stop();
});

test('nftables start with 12,000 bans: element lines merge in runs of at most 5,000, in order, the covered address left out', async () => {
  const v4 = (i: number) => `198.18.${i >> 8}.${i & 255}`;
  const active = [ban('198.18.0.0/24')];
  for (let i = 0; i < 12_000; i++) active.push(ban(v4(i)));
  const { exec, action } = setup('nftables', { active });
  await action.start();
  const lines = (exec.calls[0]?.stdin ?? '').split('\n').filter((l) => l.startsWith('add element'));
  const hosts = lines.filter((l) => l.includes(' host4 '));
  assert.deepEqual(lines.filter((l) => !l.includes(' host4 ')), ['add element inet pban-postfix net4 { 198.18.0.0/24 timeout 600s }']);
  assert.deepEqual(hosts.map((l) => l.split(', ').length), [5000, 5000, 1744]);
  const elems = hosts.flatMap((l) => /^add element inet pban-postfix host4 \{ (.*) \}$/.exec(l)![1]!.split(', '));
  assert.deepEqual(elems, Array.from({ length: 12_000 - 256 }, (_, i) => `${v4(i + 256)} timeout 600s`));
  await action.stop();
});

test('a check of a large listing gives the event loop turns while it parses, and still finds a missing ban', async () => {
  const active: Ban[] = [];
  for (let i = 0; i < 20_000; i++) active.push(ban(`198.18.${i >> 8}.${i & 255}`));
  // the kernel lists every ban but the last
  const listing = `table inet pban-postfix {\n\tset host4 {\n\t\telements = { ${active.slice(0, -1).map((b) => `${b.target.addr} timeout 10m expires 9m`).join(', ')} }\n\t}\n}\n`;
  const respond = (argv: readonly string[]): CommandResult =>
    argv.includes('list') && argv.includes('table') ? { status: 0, stdout: listing, stderr: '' } : argv.includes('chain') ? { status: 0, stdout: 'ip saddr @host4 drop\nip saddr @net4 drop\n', stderr: '' } : OK;
  const { action } = setup('nftables', { active, respond });
  assert.equal(await action.start(), true);
  let turns = 0;
  let ticking = true;
  const tick = (): void => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const healthy = await action.check();
  ticking = false;
  // the repair re-applies everything; what matters here: the missing ban was found, and the
  // parse of 20,000 elements let other work run (10 slices of 2,000)
  assert.equal(healthy, true);
  assert.ok(turns >= 10, `the event loop had ${turns} turns during the check`);
  assert.match(action.health().lastError?.message ?? '', /1 ban\(s\) missing from the kernel/);
});
