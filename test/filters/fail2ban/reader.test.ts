// The fail2ban reader's parts on small filter files of our own: INI includes and
// interpolation, Python → JavaScript regex translation and its refusals, host tags,
// multi-line ids, names fail2ban users type, and test-filter's fail2ban output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { translatePython, PyRegexError } from '../../../src/filters/fail2ban/pyregex.js';
import { loadFilter, isFail2banFilter, parseFilterSpec, formatFilterSpec, type Fail2banFilter } from '../../../src/filters/index.js';
import { resolveActionFile } from '../../../src/actions/definition.js';
import { ConfigError } from '../../../src/errors.js';
import { loadConfig } from '../../../src/config/index.js';
import { runPban } from '../../helpers/run-cli.js';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);

function dir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'pban-f2b-reader-'));
}

function write(d: string, name: string, text: string): string {
  const f = path.join(d, name);
  mkdirSync(path.dirname(f), { recursive: true });
  writeFileSync(f, text);
  return f;
}

function f2b(spec: string): Fail2banFilter {
  const f = loadFilter(spec, { timezone: 'UTC', now: NOW });
  assert.ok(isFail2banFilter(f));
  return f;
}

test('Python syntax becomes JavaScript: named groups, back references, flags, \\Z, {,n}', () => {
  const t = translatePython('(?i)^(?P<user>\\w+) x{,2} (?P=user)\\Z');
  assert.equal(t.flags, 'i');
  const re = new RegExp(t.source, t.flags);
  assert.ok(re.test('Bob xx BOB'.replace('BOB', 'Bob')));
  assert.ok(!re.test('Bob xxx Bob'));
  assert.ok(!re.test('Bob x Bob\n'), '\\Z is the very end');
  // Python's $ also matches before a final newline.
  assert.ok(new RegExp(translatePython('a$').source).test('a\n'));
  // A scoped (?i:…) becomes case classes.
  const s = new RegExp(translatePython('SASL (?i:login|plain) failed').source);
  assert.ok(s.test('SASL LOGIN failed') && s.test('SASL Plain failed') && !s.test('sasl LOGIN failed'));
});

test('conditional groups (?(name)yes|no) are expanded into alternatives', () => {
  const t = translatePython('^(?P<q>")?(?P<v>\\w+)(?(q)"|;)$');
  const re = new RegExp(t.source, t.flags);
  assert.ok(re.test('"abc"'));
  assert.ok(re.test('abc;'));
  assert.ok(!re.test('"abc;'));
  assert.ok(!re.test('abc"'));
});

test('what JavaScript cannot express is refused, naming the construct', () => {
  for (const [src, what] of [
    ['a(?>b)', 'atomic group'],
    ['a*+', 'possessive'],
    ['\\N{DASH}', 'named character'],
    ['(?L)a', 'locale'],
    ['a(?x)b', 'global flags'],
  ] as const) {
    assert.throws(() => translatePython(src), (e: unknown) => e instanceof PyRegexError && e.message.includes(what), src);
  }
});

test('a fail2ban filter: includes before/after, [DEFAULT], [Init], %(x)s, %(known/x)s, <tag>, .local', () => {
  const d = dir();
  write(d, 'filter.d/base.conf', '[DEFAULT]\n_daemon = \\S+\n[Definition]\n__prefix = %(_daemon)s\\[\\d+\\]:\n');
  write(
    d,
    'filter.d/demo.conf',
    [
      '[INCLUDES]',
      'before = base.conf',
      '[Definition]',
      '_daemon = demo',
      'prefregex = ^\\s*\\S+ %(__prefix)s <F-CONTENT>.+</F-CONTENT>$',
      'failregex = ^bad login for <F-USER>\\S+</F-USER> from <HOST>$',
      '            <extra-<mode>>',
      'extra-normal =',
      'extra-aggressive = ^lost connection from <ADDR>$',
      'ignoreregex = from 192\\.0\\.2\\.99$',
      '# a comment',
      '[Init]',
      'mode = normal',
      '',
    ].join('\n'),
  );
  write(d, 'filter.d/demo.local', '[Definition]\nfailregex = %(known/failregex)s\n            ^denied <HOST>$\n');
  const file = path.join(d, 'filter.d/demo.conf');
  const normal = f2b(file);
  assert.equal(normal.definition.failregex.length, 2, normal.definition.failregex.join(' | '));
  const line = (msg: string) => `Jun  1 11:00:00 host demo[12]: ${msg}`;
  const r = normal.processLine(line('bad login for eve from 192.0.2.7'), NOW);
  assert.equal(r.length, 1);
  assert.equal(r[0]?.host, '192.0.2.7');
  assert.equal(r[0]?.fields.user, 'eve');
  assert.equal(r[0]?.time, Date.UTC(2024, 5, 1, 11, 0, 0) / 1000);
  assert.equal(normal.processLine(line('denied 2001:db8::5'), NOW)[0]?.host, '2001:db8::5');
  assert.equal(normal.processLine(line('bad login for eve from 192.0.2.99'), NOW).length, 0, 'ignoreregex');
  assert.equal(normal.processLine(line('lost connection from 192.0.2.8'), NOW).length, 0, 'only in aggressive mode');
  assert.equal(normal.processLine('Jun  1 11:00:00 host other[12]: denied 192.0.2.7', NOW).length, 0, 'prefregex names the daemon');
  const aggressive = f2b(`${file}[mode=aggressive]`);
  assert.equal(aggressive.processLine(line('lost connection from 192.0.2.8'), NOW)[0]?.host, '192.0.2.8');
});

test('an untranslatable regex is one line naming the file, the line and the construct', () => {
  const d = dir();
  const file = write(d, 'bad.conf', '[Definition]\nfailregex = ^ok <HOST>$\n            ^bad (?>x) <HOST>$\n');
  assert.throws(
    () => loadFilter(file, { timezone: 'UTC' }),
    (e: unknown) => e instanceof ConfigError && e.message.startsWith(`${file}:3: failregex #2: atomic group "(?>"`) && !e.message.includes('\n'),
  );
  const noid = write(d, 'noid.conf', '[Definition]\nfailregex = ^no host here$\n');
  assert.throws(() => loadFilter(noid, { timezone: 'UTC' }), /noid\.conf:2: failregex #1: no failure-id group/);
});

test('<DNS> is reported as captured and never resolved; the daemon only counts addresses', () => {
  const d = dir();
  const file = write(d, 'dns.conf', '[Definition]\nfailregex = ^ refused from <HOST>$\n');
  const f = f2b(file);
  const line = 'Jun  1 11:00:00 refused from mail.example.com';
  assert.equal(f.processLine(line, NOW)[0]?.host, 'mail.example.com');
  assert.equal(f.match(line, NOW).type, 'missed');
  const m = f.match('Jun  1 11:00:00 refused from 2001:DB8::1', NOW);
  assert.equal(m.type, 'failure');
  if (m.type === 'failure') assert.equal(m.failure.ip, '2001:db8::1');
});

test('multi-line failure ids: <F-MLFID>, <F-NOFAIL>, <F-MLFFORGET> as fail2ban merges them', () => {
  const d = dir();
  const file = write(
    d,
    'ml.conf',
    [
      '[Definition]',
      'prefregex = ^\\s*<F-MLFID>conn \\d+</F-MLFID>: <F-CONTENT>.+</F-CONTENT>$',
      'failregex = ^<F-NOFAIL>connect from</F-NOFAIL> <HOST>$',
      '            ^login failed for <F-USER>\\S+</F-USER>$',
      '            ^<F-MLFFORGET>closed</F-MLFFORGET>$',
      '',
    ].join('\n'),
  );
  const f = f2b(file);
  const t = 'Jun  1 11:00:00';
  assert.equal(f.processLine(`${t} conn 1: connect from 192.0.2.20`, NOW).length, 0, 'a connection is no failure');
  const r = f.processLine(`${t} conn 1: login failed for bob`, NOW);
  assert.equal(r.length, 1);
  assert.equal(r[0]?.host, '192.0.2.20', 'the address comes from the earlier line of the same id');
  assert.deepEqual(r[0]?.users, ['bob']);
  f.processLine(`${t} conn 1: closed`, NOW);
  assert.equal(f.processLine(`${t} conn 1: login failed for bob`, NOW).length, 0, 'forgotten after close: no address');
});

test('date patterns: {^LN-BEG}, custom %-patterns, EPOCH, {NONE}', () => {
  const d = dir();
  const custom = write(d, 'c.conf', '[Definition]\nfailregex = ^ fail <HOST>$\ndatepattern = ^\\[%%d/%%b/%%Y %%H:%%M:%%S\\]\n');
  assert.equal(f2b(custom).processLine('[02/Jan/2023 10:11:12] fail 192.0.2.1', NOW)[0]?.time, Date.UTC(2023, 0, 2, 10, 11, 12) / 1000);
  const epoch = write(d, 'e.conf', '[Definition]\nfailregex = ^ fail <HOST>$\ndatepattern = EPOCH\n');
  assert.equal(f2b(epoch).processLine('1700000000 fail 192.0.2.1', NOW)[0]?.time, 1700000000);
  const none = write(d, 'n.conf', '[Definition]\nfailregex = ^fail <HOST>$\ndatepattern = {NONE}\n');
  assert.equal(f2b(none).processLine('fail 192.0.2.1', NOW)[0]?.time, NOW / 1000);
  const bad = write(d, 'b.conf', '[Definition]\nfailregex = ^fail <HOST>$\ndatepattern = %%Q\n');
  assert.throws(() => loadFilter(bad, { timezone: 'UTC' }), /b\.conf:3: date pattern "%Q": unknown directive "%Q"/);
});

test('filter references: fail2ban:NAME[options], paths, native names with their mode only', () => {
  const s = parseFilterSpec('fail2ban:sshd[mode=aggressive, logtype="journal"]');
  assert.ok(!('error' in s));
  assert.equal(s.fail2ban, true);
  assert.equal(s.isPath, false);
  assert.deepEqual([...s.options], [['mode', 'aggressive'], ['logtype', 'journal']]);
  assert.equal(formatFilterSpec(s), 'fail2ban:sshd[mode=aggressive, logtype=journal]');
  const p = parseFilterSpec('/etc/fail2ban/filter.d/postfix.conf[mode=auth]');
  assert.ok(!('error' in p) && p.fail2ban && p.isPath);
  assert.ok('error' in parseFilterSpec('postfix[logtype=journal]'), 'native filters take only a mode');
  assert.ok('error' in parseFilterSpec('fail2ban:../x'));
});

test('names fail2ban users type: native equivalents, fail2ban:NAME, errors naming the equivalent', () => {
  const sasl = loadFilter('postfix-sasl', { timezone: 'UTC' });
  assert.equal(sasl.name, 'postfix');
  assert.equal(sasl.mode, 'auth');
  assert.equal(loadFilter('postfix-rbl', { timezone: 'UTC' }).mode, 'rbl');
  const d = dir();
  write(d, 'sshd.conf', '[Definition]\nfailregex = ^Invalid user \\S+ from <HOST>$\nmode = normal\n');
  const sshd = loadFilter('sshd-ddos', { timezone: 'UTC', fail2banFilterDir: d });
  assert.ok(isFail2banFilter(sshd));
  assert.equal(sshd.definition.options.get('mode'), 'ddos');
  assert.throws(() => loadFilter("no-such-thing", { timezone: "UTC" }), /no shipped filter named "no-such-thing"/);
  assert.throws(() => resolveActionFile('iptables-multiport'), /"iptables-multiport" is a fail2ban action; pban's equivalent is iptables/);
  assert.throws(() => resolveActionFile('nftables-allports'), /pban's equivalent is nftables/);
});

test('a jail names fail2ban:NAME, looked up in [pban] fail2ban_filter_dir', () => {
  const d = dir();
  write(d, 'f2b/sshd.conf', '[Definition]\nfailregex = ^Invalid user \\S+ from <HOST>$\n');
  write(d, 'auth.log', '');
  const cfg = write(
    d,
    'pban.toml',
    `[pban]\nfail2ban_filter_dir = "f2b"\ndatabase = "db.sqlite"\nsocket = "s.sock"\n[defaults]\naction = ["dry-run"]\n[jails.ssh]\nfilter = "fail2ban:sshd[mode=aggressive]"\nlogpath = ["auth.log"]\n[jails.sasl]\nfilter = "postfix-sasl"\nlogpath = ["auth.log"]\n`,
  );
  const c = loadConfig(cfg);
  assert.equal(c.jails.find((j) => j.name === 'ssh')?.filter, `${path.join(d, 'f2b/sshd.conf')}[mode=aggressive]`);
  assert.equal(c.jails.find((j) => j.name === 'sasl')?.filter, 'postfix[mode=auth]');
  const r = runPban(['check', '-c', cfg]);
  assert.equal(r.status, 0, r.stderr);
});

test('pban test-filter on a fail2ban filter: --json with the captured host, --now, "#" and empty lines skipped', () => {
  const d = dir();
  const file = write(d, 'h.conf', '[Definition]\nfailregex = ^ refused from <HOST>$\n');
  const log = write(d, 'x.log', '# comment\n\nDec 31 23:59:59 refused from gw.example.net\nDec 31 23:59:59 refused from 192.0.2.5\nDec 31 23:59:59 accepted from 192.0.2.6\n');
  const r = runPban(['test-filter', file, log, '--json', '--now', '2025-01-01T00:00:30Z', '--timezone', 'UTC']);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    out.map((o) => [o.line, o.ip, o.time]),
    [
      [3, 'gw.example.net', '2024-12-31T23:59:59.000Z'],
      [4, '192.0.2.5', '2024-12-31T23:59:59.000Z'],
    ],
  );
  const summary = JSON.parse(r.stderr) as Record<string, unknown>;
  assert.equal(summary.skipped, 2);
  assert.equal(summary.missed, 1);
});

test('pban test-filter --json on a fail2ban filter: each line is the text JSON.stringify gives its object (escapes, non-ASCII, fields named like keys, times)', () => {
  const d = dir();
  const file = write(
    d,
    'j.conf',
    [
      '[Definition]',
      'failregex = ^ login failed for <F-USER>.*</F-USER> from <HOST>$',
      '            ^ odd <F-TIME>\\S+</F-TIME> from <HOST>$',
      '            ^ many <F-ATTEMPTS>\\S+</F-ATTEMPTS> from <HOST>$',
      '',
    ].join('\n'),
  );
  const users = ['eve', 'a"b', 'back\\slash', 'tab\there', 'ünïcødé', '€uro', '😀 emoji', 'ctl\u0001x', '', 'x'.repeat(100), `${'y'.repeat(70)}"`, `${'z'.repeat(70)}é`];
  const lines: string[] = [];
  users.forEach((u, i) => lines.push(`Dec 31 23:59:${String(i).padStart(2, '0')} login failed for ${u} from 192.0.2.${i + 1}`));
  lines.push('Dec 31 23:59:59 odd 12 from 198.51.100.1', 'Dec 31 23:59:59 many 3 from 198.51.100.2', '2024-02-29T01:02:03.456789Z login failed for bob from 2001:db8::1');
  lines.push('1600000000.500 login failed for old from 203.0.113.9', ' login failed for undated from 203.0.113.10');
  const log = write(d, 'j.log', `${lines.join('\n')}\n`);
  const r = runPban(['test-filter', file, log, '--json', '--now', '2025-01-01T00:00:30Z', '--timezone', 'UTC']);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.split('\n');
  assert.equal(out.pop(), '', 'ends in a newline');
  assert.equal(out.length, lines.length, r.stdout);
  for (const l of out) assert.equal(JSON.stringify(JSON.parse(l)), l);
  const objs = out.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(objs.slice(0, users.length).map((o) => o.user), users);
  assert.equal(objs[0]?.time, '2024-12-31T23:59:00.000Z');
  const odd = objs[users.length] as Record<string, unknown>;
  assert.equal(odd.time, '2024-12-31T23:59:59.000Z', 'a field named time does not replace the time');
  const many = objs[users.length + 1] as Record<string, unknown>;
  // The object path: a field named attempts keeps its place, the count its value.
  assert.deepEqual(Object.keys(many), ['line', 'ip', 'time', 'kind', 'filter', 'regex', 'attempts', 'ip4']);
  assert.equal(many.attempts, 1);
  assert.match(String(objs[users.length + 2]?.time), /^2024-02-29T01:02:03\.\d{3}Z$/);
  assert.equal(objs[users.length + 3]?.time, new Date(1600000000500).toISOString());
  assert.equal(objs[users.length + 4]?.time, null, 'no date, none carried over');
});
