// Broken and hostile filter files: each gets one clear line naming the file (and line) and
// the offending regex; and the engine itself on hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { compileFilter, loadFilter, MAX_LINE_LENGTH, resolveZone } from '../../src/filters/index.js';

const UTC = resolveZone('UTC');
const FILE = '/etc/pban/filters/bad.toml';

function filterText(regex: string, extra = ''): string {
  return `name = "t"\n${extra}\n[[failregex]]\nid = "one"\nkind = "test"\nregex = '''${regex}'''\n`;
}

const BROKEN: [string, string, RegExp][] = [
  ['TOML syntax error', 'name = "t"\n[[failregex]\nid = 1\n', /^\/etc\/pban\/filters\/bad\.toml:2: TOML: /],
  ['unknown top-level key', 'name = "t"\nfailregexes = []\n', /bad\.toml:2: unknown key "failregexes"/],
  ['missing name', '[[failregex]]\nid = "a"\nkind = "k"\nregex = "x <HOST>"\n', /bad\.toml: missing "name"/],
  ['no failregex', 'name = "t"\n', /"failregex" must be a non-empty array/],
  ['regex syntax error', filterText('from <HOST> (unclosed'), /bad\.toml:6: failregex "one": invalid regex: .*"from <HOST> \(unclosed"/],
  ['no <HOST>', filterText('lost connection from x'), /failregex "one": failregex has no <HOST> or <ADDR>: "lost connection from x"/],
  ['two <HOST>', filterText('from <HOST> to <HOST>'), /more than one <HOST>/],
  ['greedy catch-all before <HOST>', filterText('reject: .*<HOST>'), /catch-all "\.\*" before <HOST>.*"reject: \.\*<HOST>"/],
  ['nested quantifier', filterText('(a+)+ from <HOST>'), /nested quantifier "\(a\+\)\+" risks catastrophic backtracking/],
  ['nested quantifier with a class', filterText('from <HOST>(\\w+\\s?)*$'), /nested quantifier/],
  ['unclosed field tag', filterText('user <F-USER>\\S+ from <HOST>'), /<F-USER> is never closed/],
  ['reserved group name', filterText('(?<pban_addr>x) <HOST>'), /reserved/],
  ['<HOST> in ignoreregex', filterText('from <HOST>', "ignoreregex = ['from <HOST>']"), /only allowed in a failregex/],
  ['unknown key in a failregex', 'name = "t"\n[[failregex]]\nid = "a"\nkind = "k"\nregex = "x <HOST>"\nflags = "i"\n', /bad\.toml:6: failregex #1: unknown key "flags"/],
  ['mode names an unknown regex', filterText('from <HOST>', 'default_mode = "m"\n[modes]\nm = ["nope"]'), /mode "m" names unknown failregex "nope"/],
  ['default mode missing', filterText('from <HOST>', '[modes]\nm = ["one"]'), /missing "default_mode"/],
  ['[kinds] names a kind no failregex has', filterText('from <HOST>', '[kinds]\nnope = "network"'), /bad\.toml:3: \[kinds\]: "nope" is not the kind of any failregex/],
  ['[kinds] with an unknown class', filterText('from <HOST>', '[kinds]\ntest = "subnet"'), /bad\.toml:3: \[kinds\]: test must be "network" or "address"/],
  ['kind with spaces', 'name = "t"\n[[failregex]]\nid = "a"\nkind = "a b"\nregex = "x <HOST>"\n', /"kind" must be lowercase/],
];

for (const [what, text, want] of BROKEN) {
  test(`broken filter: ${what}`, () => {
    assert.throws(
      () => compileFilter(text, FILE, undefined, UTC),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.ok(!err.message.includes('\n'), `not one line: ${err.message}`);
        assert.match(err.message, want);
        return true;
      },
    );
  });
}

test('an unknown mode is refused and the modes are listed', () => {
  assert.throws(() => loadFilter('postfix[mode=paranoid]'), /unknown mode "paranoid" \(modes: normal, more, rbl, auth, ddos, extra, aggressive, errors, inbound\)/);
});

test('an unknown shipped filter is refused', () => {
  assert.throws(() => loadFilter('nosuchfilter'), /no shipped filter named "nosuchfilter"/);
});

test('a filter by path, with modes, ignoreregex and fields', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-filters-'));
  const file = path.join(dir, 'mine.toml');
  writeFileSync(
    file,
    `name = "mine"\nprefix = '''\\S+ app\\[\\d+\\]: '''\ndefault_mode = "strict"\nignoreregex = ['''bad login for <F-USER>admin</F-USER> ''']\n[modes]\nstrict = ["login"]\nloose = ["login", "probe"]\n` +
      `[[failregex]]\nid = "login"\nkind = "login"\nregex = '''bad login for <F-USER>\\S+</F-USER> from <ADDR>$'''\n` +
      `[[failregex]]\nid = "probe"\nkind = "probe"\nregex = '''probe from <HOST>$'''\n`,
  );
  const strict = loadFilter(file, { timezone: 'UTC' });
  const loose = loadFilter(`${file}[mode=loose]`, { timezone: 'UTC' });
  const now = Date.UTC(2026, 0, 10);
  const r = strict.match('Jan  9 10:00:00 host app[7]: bad login for bob from 2001:db8::7', now);
  assert.equal(r.type, 'failure');
  if (r.type === 'failure') {
    assert.deepEqual({ ...r.failure }, { time: Date.UTC(2026, 0, 9, 10), ip: '2001:db8::7', family: 6, filter: 'mine', kind: 'login', network: false, fields: { user: 'bob' } });
  }
  assert.equal(strict.match('Jan  9 10:00:00 host app[7]: bad login for admin from 192.0.2.1', now).type, 'ignored');
  assert.equal(strict.match('Jan  9 10:00:00 host app[7]: probe from x[192.0.2.1]', now).type, 'missed');
  assert.equal(loose.match('Jan  9 10:00:00 host app[7]: probe from x[192.0.2.1]', now).type, 'failure');
  assert.equal(loose.match('host app[7]: probe from x[192.0.2.1]', now).type, 'undated');
  assert.equal(strict.match('Jan  9 10:00:00 other[7]: bad login for bob from 192.0.2.1', now).type, 'missed');
});

test('a matching line without a readable date is undated, not fatal', () => {
  const f = compileFilter(filterText('probe from <HOST>$'), FILE, undefined, UTC);
  assert.deepEqual(f.match('probe from x[192.0.2.1]', 0), { type: 'undated', regex: 0 });
});

test('a 1 MB line and binary garbage are dismissed quickly', () => {
  const f = loadFilter('postfix[mode=aggressive]', { timezone: 'UTC' });
  const huge = `Jun  4 10:11:12 mail postfix/smtpd[1]: warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: ${'A'.repeat(1 << 20)}`;
  assert.ok(huge.length > MAX_LINE_LENGTH);
  assert.deepEqual(f.match(huge, 0), { type: 'missed' });
  const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1');
  assert.deepEqual(f.match(garbage, 0), { type: 'missed' });
  // Near the limit, a long hostile line still runs in linear time.
  const longish = `Jun  4 10:11:12 mail postfix/smtpd[1]: warning: ${'a'.repeat(MAX_LINE_LENGTH - 100)}`;
  const t0 = performance.now();
  f.match(longish, 0);
  assert.ok(performance.now() - t0 < 1000);
});

test('first characters cover optional openings and alternatives, or are unknown', async () => {
  const { firstChars } = await import('../../src/filters/tags.js');
  const chars = (src: string) => {
    const s = firstChars(src);
    return s === null ? null : String.fromCharCode(...[...s].sort((a, b) => a - b));
  };
  assert.equal(chars('reject: x'), 'r');
  assert.equal(chars('(?:milter-)?reject: x'), 'mr');
  assert.equal(chars('(?:milter-)??reject'), 'mr');
  assert.equal(chars('a{0,2}b'), 'ab');
  assert.equal(chars('a*b?c'), 'abc');
  assert.equal(chars('(?:COMMAND P|NON-SMTP|BARE) x'), 'BCN');
  assert.equal(chars('abc|xyz'), 'ax');
  assert.equal(chars('a?'), null, 'may match the empty string');
  assert.equal(chars('a?|b'), null);
  assert.equal(chars('a?\\w'), null);
  assert.equal(chars('(?=x)x'), null);
});

test('literal hints are only text a match must contain', async () => {
  const { literalHints } = await import('../../src/filters/tags.js');
  assert.deepEqual(literalHints('disconnect from x(?: a=1)* auth=0/[1-9]'), { lead: 'disconnect from x', inner: ' auth=0/' });
  assert.deepEqual(literalHints('(?:milter-)?reject: RCPT'), { lead: '', inner: 'reject: RCPT' });
  assert.deepEqual(literalHints('abc?def'), { lead: 'ab', inner: 'def' });
  assert.deepEqual(literalHints('a|b'), { lead: '', inner: '' });
  assert.deepEqual(literalHints('COMMAND \\[x\\] \\d+ LIMIT'), { lead: 'COMMAND [x] ', inner: ' LIMIT' });
  assert.deepEqual(literalHints('x{2,3}yz'), { lead: '', inner: 'yz' });
});

test('[kinds]: a listed "network" kind counts for networks; an unlisted kind does not', () => {
  const text = `name = "t"\n[kinds]\nguess = "network"\n[[failregex]]\nid = "a"\nkind = "guess"\nregex = 'guess from <ADDR>$'\n[[failregex]]\nid = "b"\nkind = "drop"\nregex = 'drop from <ADDR>$'\n`;
  const f = compileFilter(text, FILE, undefined, UTC);
  const at = (line: string) => {
    const r = f.match(line, Date.UTC(2026, 0, 10));
    assert.equal(r.type, 'failure');
    return r.type === 'failure' ? r.failure.network : undefined;
  };
  assert.equal(at('Jan  9 10:00:00 guess from 192.0.2.1'), true);
  assert.equal(at('Jan  9 10:00:00 drop from 192.0.2.1'), false);
  assert.equal(f.countsForNetwork('guess'), true);
  assert.equal(f.countsForNetwork('drop'), false);
  assert.equal(f.countsForNetwork('never-seen'), false);
});

test('shipped filters: what legitimate servers also do never counts for networks', () => {
  const postfix = loadFilter('postfix[mode=aggressive]', { timezone: 'UTC' });
  for (const k of ['lost-connection', 'rbl', 'helo', 'client', 'sender', 'undeliverable', 'reject', 'rate-limit', 'postscreen']) {
    assert.equal(postfix.countsForNetwork(k), false, k);
  }
  for (const k of ['sasl', 'relay', 'user-unknown', 'auth-summary', 'pipelining', 'too-many-errors', 'non-smtp']) {
    assert.equal(postfix.countsForNetwork(k), true, k);
  }
  const dovecot = loadFilter('dovecot[mode=aggressive]', { timezone: 'UTC' });
  assert.equal(dovecot.countsForNetwork('login-no-auth'), false);
  assert.equal(dovecot.countsForNetwork('passdb'), true);
});
