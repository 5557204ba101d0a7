// The control-socket contract, checked against the real daemon (`pban start`, dry-run action):
// every command's reply shape (through --json, or the client's request() for the commands that
// have no --json; as docs/cli.md documents them) and the CLI's output and exit code, its errors (unknown jail, bad target, refused reload), and what arrives on the
// socket that the CLI would never send (garbage, an unknown command, another protocol version).
import { after, before, test } from 'node:test';
import { requireRoot } from '../helpers/system.js';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from '../../src/control/client.js';
import { MAX_REQUEST_BYTES, parseReply } from '../../src/control/protocol.js';
import type { BannedEntry, DaemonStatus, JailStatus, ReloadReply, UnbanReply, VersionReply } from '../../src/control/types.js';
import { rejectLine, saslLine, sendRaw, startRealDaemon, type RealDaemon } from './daemon-fixture.js';

before(() => requireRoot('the CLI talks only to a root-owned control socket'));

let d: RealDaemon;

before(async () => {
  d = await startRealDaemon();
  // 198.51.100.7: 3 SASL failures, banned in both jails; 203.0.113.9: 2 rejects, failing in postfix only.
  await d.append([...[1, 2, 3].map(() => saslLine('198.51.100.7')), rejectLine('203.0.113.9'), rejectLine('203.0.113.9')]);
});
after(async () => {
  await d?.stop();
});

/** The reply data of a command, through the real client (as the CLI gets it). */
const ask = <K extends Parameters<typeof request>[1]>(cmd: K, args: Parameters<typeof request<K>>[2]) => request({ socketPath: d.socket }, cmd, args);

/** The exact keys of an object, sorted: a reply gains fields only on purpose. */
const keys = (o: object): string[] => Object.keys(o).sort();

const ERR = (message: string): string => `pban: ${message}\n`;
const UNKNOWN_JAIL = ERR('no jail named "nope" (jails: postfix, postfix-sasl)');

function checkBannedEntry(b: BannedEntry): void {
  assert.deepEqual(keys(b), ['banNumber', 'bannedAt', 'expiresAt', 'failures', 'jail', 'kind', 'target']);
  assert.match(b.target, /^[0-9a-f.:]+\/\d+$/);
  assert.ok(['address', 'network', 'manual'].includes(b.kind));
  for (const n of [b.failures, b.bannedAt, b.banNumber]) assert.equal(typeof n, 'number');
  assert.ok(b.expiresAt === null || typeof b.expiresAt === 'number');
}

test('status: DaemonStatus, every jail with counts, sources and action health; exit 0', async () => {
  const s = await d.json<DaemonStatus>('status');
  assert.deepEqual(keys(s), ['health', 'jails', 'linesPerSecond', 'linesRead', 'pid', 'startedAt', 'state', 'store', 'uptimeMs', 'version']);
  assert.equal(s.state, 'running');
  assert.equal(s.pid, d.process.child.pid);
  assert.equal(s.linesRead, 5);
  assert.deepEqual(s.jails.map((j) => j.name), ['postfix', 'postfix-sasl']);
  for (const j of s.jails) {
    assert.deepEqual(keys(j), ['actions', 'currentlyBanned', 'currentlyFailing', 'filter', 'futureDated', 'name', 'sources', 'totalBanned', 'totalFailed']);
    assert.deepEqual(j.sources, [d.log]);
    assert.deepEqual(j.actions, [{ name: 'dry-run', ok: true, lastError: null, lastErrorAt: null }]);
  }
  const [pf, sasl] = s.jails;
  assert.deepEqual([pf!.filter, pf!.currentlyFailing, pf!.totalFailed, pf!.currentlyBanned, pf!.totalBanned], ['postfix[mode=aggressive]', 1, 5, { addresses: 1, networks: 0 }, 1]);
  assert.deepEqual([sasl!.filter, sasl!.currentlyFailing, sasl!.totalFailed, sasl!.currentlyBanned, sasl!.totalBanned], ['postfix[mode=auth]', 0, 3, { addresses: 1, networks: 0 }, 1]);

  const text = await d.pban('status');
  assert.equal(text.status, 0, text.stderr);
  assert.equal(text.stderr, '');
  assert.match(text.stdout, /^pban \S+, pid \d+, up /);
  assert.match(text.stdout, /^postfix +postfix\[mode=aggressive\] +1 +5 +1 +0 +1 +\S+mail\.log$/m);
  assert.match(text.stdout, /^postfix-sasl +dry-run +ok *$/m);
  assert.doesNotMatch(text.stdout, /\x1b\[/, 'no colour in a pipe');
});

test('status JAIL: JailStatus (fail2ban tree); unknown jail: exit 1, one line naming the jails', async () => {
  const j = await d.json<JailStatus>('status', 'postfix');
  assert.deepEqual(j, {
    name: 'postfix',
    filter: { name: 'postfix[mode=aggressive]', currentlyFailed: 1, totalFailed: 5, sources: [d.log] },
    actions: { currentlyBanned: 1, totalBanned: 1, banned: ['198.51.100.7/32'] },
  });
  const tree = await d.pban('status', 'postfix');
  assert.equal(tree.status, 0, tree.stderr);
  assert.match(tree.stdout, /^Status for the jail: postfix\n\|- Filter\n/);
  assert.match(tree.stdout, /\|  \|- Currently failed:\t1\n/);
  assert.match(tree.stdout, / {3}`- Banned IP list:\t198\.51\.100\.7\n$/);
  for (const args of [['status', 'nope'], ['status', 'nope', '--json']]) {
    const r = await d.pban(...args);
    assert.deepEqual([r.status, r.stdout, r.stderr], [1, '', UNKNOWN_JAIL], args.join(' '));
  }
});

test('banned: BannedEntry[] of all jails or one; the table; unknown jail: exit 1', async () => {
  const all = await d.json<BannedEntry[]>('banned');
  all.forEach(checkBannedEntry);
  assert.deepEqual(all.map((b) => [b.target, b.jail, b.kind, b.failures, b.banNumber]), [
    ['198.51.100.7/32', 'postfix', 'address', 3, 1],
    ['198.51.100.7/32', 'postfix-sasl', 'address', 3, 1],
  ]);
  assert.equal(all[0]!.expiresAt! - all[0]!.bannedAt, 3_600_000);
  assert.equal(all[1]!.expiresAt! - all[1]!.bannedAt, 86_400_000);
  assert.deepEqual((await d.json<BannedEntry[]>('banned', 'postfix-sasl')).map((b) => b.jail), ['postfix-sasl']);
  const table = await d.pban('banned');
  assert.equal(table.status, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^TARGET +JAIL +KIND +FAILURES +BANNED AT +EXPIRES +BAN #$/);
  assert.match(lines[1]!, /^198\.51\.100\.7 +postfix +address +3 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +in (59m|1h) +1$/);
  assert.equal(lines.length, 3);
  for (const args of [['banned', 'nope'], ['banned', 'nope', '--json']]) {
    const r = await d.pban(...args);
    assert.deepEqual([r.status, r.stdout, r.stderr], [1, '', UNKNOWN_JAIL], args.join(' '));
  }
});

test('ban: BanReply; an ignored, an already banned target and an unknown jail: exit 1; a bad target or time: exit 2', async () => {
  const r = await ask('ban', { jail: 'postfix-sasl', target: '2001:db8::7', timeMs: 7_200_000 });
  assert.deepEqual(keys(r), ['ban']);
  checkBannedEntry(r.ban);
  assert.deepEqual([r.ban.target, r.ban.jail, r.ban.kind, r.ban.failures, r.ban.banNumber], ['2001:db8::7/128', 'postfix-sasl', 'manual', 0, 1]);
  assert.equal(r.ban.expiresAt! - r.ban.bannedAt, 7_200_000);
  const p = await d.pban('ban', 'postfix', '203.0.113.0/24', '--time', 'permanent');
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /^banned 203\.0\.113\.0\/24 in postfix permanently, ban #1\n$/);
  assert.equal((await d.json<BannedEntry[]>('banned', 'postfix')).find((b) => b.target === '203.0.113.0/24')?.expiresAt, null);

  const refused: ReadonlyArray<readonly [string[], RegExp]> = [
    [['ban', 'postfix', '192.0.2.250'], /^pban: postfix: refusing to ban 192\.0\.2\.250\/32: it overlaps ignoreip\n$/],
    [['ban', 'postfix-sasl', '2001:db8::7'], /^pban: postfix-sasl: 2001:db8::7\/128 is already banned; unban it first\n$/],
    [['ban', 'nope', '192.0.2.9'], /^pban: no jail named "nope" \(jails: postfix, postfix-sasl\)\n$/],
  ];
  for (const [args, msg] of refused) {
    const e = await d.pban(...args);
    assert.equal(e.status, 1, `${args.join(' ')}: ${e.stderr}`);
    assert.match(e.stderr, msg);
    assert.equal(e.stdout, '');
  }
  const usage: ReadonlyArray<readonly [string[], RegExp]> = [
    [['ban', 'postfix', '192.0.2.999'], /^pban: invalid target "192\.0\.2\.999": expected an IPv4 or IPv6 address/],
    [['ban', 'postfix', '0.0.0.0/0'], /^pban: invalid target "0\.0\.0\.0\/0": refusing a network larger than \/8/],
    [['ban', 'postfix', '192.0.2.9', '--time', '2x'], /^pban: --time: invalid duration "2x"/],
    [['ban', 'postfix'], /^error: missing required argument 'target'/],
  ];
  for (const [args, msg] of usage) {
    const e = await d.pban(...args);
    assert.equal(e.status, 2, `${args.join(' ')}: ${e.stderr}`);
    assert.match(e.stderr, msg);
  }
  // The daemon checks the target itself too: a request need not come from our CLI.
  const raw = parseReply(await sendRaw(d.socket, '{"v":1,"cmd":"ban","args":{"jail":"postfix","target":"198.51.100.0/1"}}\n'));
  assert.deepEqual(raw.ok ? null : raw.error.code, 'target.invalid');
});

test('unban: UnbanReply with lifted and notBanned; --all of one jail; usage mistakes: exit 2', async () => {
  const b = await d.pban('ban', 'postfix', '198.51.100.99');
  assert.deepEqual([b.status, b.stderr], [0, '']);
  assert.match(b.stdout, /^banned 198\.51\.100\.99 in postfix until .* \(for 1h\), ban #1\n$/);
  const r: UnbanReply = await ask('unban', { targets: ['198.51.100.99/32', '192.0.2.200'] });
  assert.deepEqual(keys(r), ['lifted', 'notBanned']);
  r.lifted.forEach(checkBannedEntry);
  assert.deepEqual(r.lifted.map((b) => [b.target, b.jail]), [['198.51.100.99/32', 'postfix']]);
  assert.deepEqual(r.notBanned, ['192.0.2.200/32']);
  const text = await d.pban('unban', '192.0.2.201');
  assert.deepEqual([text.status, text.stdout, text.stderr], [0, 'unbanned 0 bans\n', 'pban: not banned: 192.0.2.201\n']);
  const unk = await d.pban('unban', '192.0.2.1', '--jail', 'nope');
  assert.deepEqual([unk.status, unk.stderr], [1, UNKNOWN_JAIL]);
  for (const [args, msg] of [
    [['unban', 'mail.example.org'], /^pban: invalid target "mail\.example\.org"/],
    [['unban'], /^pban: unban: give at least one target, or --all/],
    [['unban', '--all', '192.0.2.1'], /^pban: unban: give targets or --all, not both/],
  ] as const) {
    const e = await d.pban(...args);
    assert.equal(e.status, 2, `${args.join(' ')}: ${e.stderr}`);
    assert.match(e.stderr, msg);
  }
  const before = (await d.json<BannedEntry[]>('banned')).filter((b) => b.jail === 'postfix').length;
  const all = await d.pban('unban', '--all', '--jail', 'postfix');
  assert.equal(all.status, 0, all.stderr);
  assert.match(all.stdout, new RegExp(`^unbanned ${before} bans\n`));
  assert.deepEqual((await d.json<BannedEntry[]>('banned')).map((b) => b.jail), ['postfix-sasl', 'postfix-sasl']);
});

test('version: both ends; the daemon part is VersionReply', async () => {
  const v = await d.json<{ cli: { version: string }; daemon: VersionReply }>('version');
  assert.deepEqual(keys(v.daemon), ['node', 'pid', 'protocol', 'version']);
  assert.equal(v.daemon.protocol, 1);
  assert.equal(v.daemon.pid, d.process.child.pid);
  assert.equal(v.daemon.version, v.cli.version);
  const text = await d.pban('version');
  assert.equal(text.status, 0);
  assert.match(text.stdout, /^pban \S+\ndaemon \S+ \(protocol 1, node v\d+/);
});

test('garbage, another protocol version, an unknown command, oversized and stalled requests: an error reply each, and the daemon serves on', async () => {
  const code = async (data: string | Buffer, opts?: { end?: boolean }): Promise<string> => {
    const r = parseReply(await sendRaw(d.socket, data, opts));
    return r.ok ? 'ok' : r.error.code;
  };
  assert.equal(await code('GET / HTTP/1.0\r\n\r\n'), 'request.invalidJson');
  assert.equal(await code(Buffer.from([0xff, 0x00, 0xfe, 0x0a])), 'request.invalidJson');
  assert.equal(await code('[1,2,3]\n'), 'request.invalid');
  assert.equal(await code('{"v":2,"cmd":"status"}\n'), 'request.version');
  assert.equal(await code('{"cmd":"status"}\n'), 'request.version');
  assert.equal(await code('{"v":1,"cmd":"rm -rf /"}\n'), 'request.unknownCommand');
  assert.equal(await code('{"v":1,"cmd":"status","args":{"jial":"x"}}\n'), 'request.invalidArgs');
  assert.equal(await code('{"v":1,"cmd":"status"}'), 'ok', 'no newline, but half-closed: still read');
  assert.equal(await code(''), 'request.empty');
  assert.equal(await code('x'.repeat(MAX_REQUEST_BYTES * 4)), 'request.tooLarge');
  assert.equal(await code('{"v":1,"cmd":"status"', { end: false }), 'request.timeout');
  assert.equal(await code('{"v":1,"cmd":"status"}\n{"v":1,"cmd":"stop"}\n'), 'ok', 'only the first request of a connection runs');
  const s = await d.json<DaemonStatus>('status');
  assert.equal(s.state, 'running');
  assert.doesNotMatch(d.process.output(), /control\.handlerFailed/);
});

test('reload: ReloadReply; an invalid config is refused with file:line and the old one keeps running', async () => {
  const good = readFileSync(d.config, 'utf8');
  writeFileSync(d.config, good.replace('maxretry = 3', 'maxretries = 3'));
  const bad = await d.pban('reload');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, new RegExp(`^pban: ${d.config.replace(/[.]/g, '\\.')}:\\d+: .*maxretries.*\\n$`));
  assert.equal((await d.json<DaemonStatus>('status')).jails.length, 2);

  writeFileSync(d.config, good.replace(/\[jails\.postfix-sasl\][\s\S]*$/, ''));
  const r: ReloadReply = await ask('reload', {});
  // The jail's automatic ban is lifted; its manual ban is kept in force (src/retired-jails.ts).
  const { kept, ...rest } = r;
  assert.deepEqual(rest, { jails: ['postfix'], added: [], removed: ['postfix-sasl'], lifted: 1, retired: ['postfix-sasl'] });
  assert.deepEqual(kept.map((b) => [b.jail, b.target, b.kind]), [['postfix-sasl', '2001:db8::7/128', 'manual']]);
  writeFileSync(d.config, good);
  const text = await d.pban('reload');
  assert.deepEqual([text.status, text.stdout], [0, 'reloaded: 2 jails (postfix, postfix-sasl)\nadded: postfix-sasl\n']);
});

test('stop: "stopping", then the daemon exits 0 and every command says it is not running', async () => {
  assert.deepEqual(await ask('stop', {}), { stopping: true });
  assert.equal(await d.process.exited, 0);
  for (const cmd of ['status', 'banned', 'reload', 'stop']) {
    const e = await d.pban(cmd);
    assert.deepEqual([e.status, e.stderr], [1, ERR(`pban is not running (no socket at ${d.socket})`)], cmd);
  }
  const v = await d.pban('version');
  assert.equal(v.status, 1);
  assert.match(v.stdout, /^pban \S+\n$/);
});
