// The bound on filter regexes (src/filters/linear.ts): what is refused at load, what runs under
// V8's linear-time fallback, and lookarounds checked by pban. No timing: a hostile match that
// were not bounded would never finish (2^100 steps), so finishing with the right answer is the
// assertion; the load-time decisions are asserted directly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileLinear, LinearError } from '../../src/filters/linear.js';
import { compileFilter, loadFilter, resolveZone } from '../../src/filters/index.js';

const UTC = resolveZone('UTC');

// The issue's patterns and the classic ones: all linear-capable, so every match is bounded.
const HOSTILE = ['(?:(?:a)+)+$', '(?:a|a)*$', '(a|aa)+$', '(?:(a|b)*)*c', '(a+)+$', '(a|a)+$', '(\\w+\\s?)+$', '(.*a){12}$', '([a-zA-Z]+)*$', '(a*)*b'];

test('hostile patterns are accepted by the linear-time engine and answer at once on their attack line', () => {
  for (const src of HOSTILE) {
    const lin = compileLinear(src);
    assert.equal(lin.holds, null, src);
    // V8 accepts the same source under the `l` flag: the predicate that arms the fallback.
    assert.doesNotThrow(() => new RegExp(src, 'ly'), src);
    const line = `${'a'.repeat(100)}!`;
    lin.re.lastIndex = 0;
    assert.equal(lin.re.exec(line), null, src);
  }
});

test('what the linear-time engine cannot run is refused with the reason', () => {
  const refused: [string, RegExp][] = [
    ['(a)\\1', /backreference/],
    ['(?<x>a)\\k<x>', /backreference/],
    ['a{17}', /counted repeat above 16/],
    ['(?:a{1,5}){4}', /counted repeat above 16/],
    ['(?=(?=a))a', /lookaround inside a lookaround/],
    ['(?:x(?=a))+', /repeated group/],
    ['(?=(?<n>a))a', /named group/],
  ];
  for (const [src, why] of refused) assert.throws(() => compileLinear(src), (e: unknown) => e instanceof LinearError && why.test(e.message), src);
});

test('a lookaround is checked at its place in the match, and the rest of the regex stays bounded', () => {
  const cases: [string, string, boolean][] = [
    ['ab(?!c)', 'abd', true],
    ['ab(?!c)', 'abc', false],
    ['(?:x(?=y)|xz)', 'xy', true],
    // The documented difference from JavaScript: a failed check does not send the regex back to
    // try 'xz'; the line does not match.
    ['(?:x(?=y)|xz)', 'xz', false],
    ['(?:h (?=w\\b))?[a-z]+', 'h w', true],
    ['a(?<=a)b(?<!x)c', 'abc', true],
    ['(a)(?<=b)', 'a', false],
    ['q(?=r)r(?!s)', 'qrt', true],
    ['q(?=r)r(?!s)', 'qrs', false],
    // The skeleton is hostile too: bounded by the fallback, the lookaround checked after.
    ['(?:(?:a)+)+(?!b)$', `${'a'.repeat(100)}!`, false],
  ];
  for (const [src, line, ok] of cases) {
    const lin = compileLinear(src);
    assert.notEqual(lin.holds, null, src);
    lin.re.lastIndex = 0;
    const m = lin.re.exec(line);
    const got = m !== null && (lin.holds as NonNullable<typeof lin.holds>)(m, 0, line);
    assert.equal(got, ok, `${src} on ${line}`);
  }
});

test('a custom filter with a nested quantifier meets the 110-byte attack line and answers', () => {
  const text = `name = "custom"\n[[failregex]]\nid = "x"\nkind = "x"\nregex = '''<ADDR> (?:(?:a)+)+$'''\n`;
  const f = compileFilter(text, 'custom.toml', undefined, UTC);
  const attack = `2026-01-01T00:00:00Z 198.51.100.66 ${'a'.repeat(74)}!`;
  assert.equal(Buffer.byteLength(attack), 110);
  assert.equal(f.match(attack, Date.now()).type, 'missed');
  const ok = f.match(`2026-01-01T00:00:00Z 198.51.100.66 ${'a'.repeat(70)}`, Date.now());
  assert.equal(ok.type, 'failure');
});

test('the shipped filters and their lookarounds load; a user name holding rip= cannot move the address', () => {
  for (const spec of ['postfix[mode=aggressive]', 'postfix[mode=extra]', 'dovecot[mode=aggressive]']) assert.doesNotThrow(() => loadFilter(spec, { timezone: 'UTC' }), spec);
  const dovecot = loadFilter('dovecot[mode=aggressive]', { timezone: 'UTC' });
  for (const user of ['alice', 'x>, rip=203.0.113.9, lip=192.0.2.1', 'x>, method=PLAIN, rip=203.0.113.9', 'a>, rip=203.0.113.9>, rip=203.0.113.10']) {
    const line = `Nov 27 17:37:55 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<${user}>, method=PLAIN, rip=198.51.100.7, lip=192.0.2.1, TLS, session=<abc>`;
    const r = dovecot.match(line, Date.UTC(2026, 10, 28));
    assert.equal(r.type === 'failure' ? r.failure.ip : r.type, '198.51.100.7', user);
  }
  const postfix = loadFilter('postfix[mode=extra]', { timezone: 'UTC' });
  const sasl = (why: string): string => `Nov 27 17:37:55 mail postfix/smtpd[1]: warning: unknown[198.51.100.8]: SASL LOGIN authentication failed: ${why}`;
  assert.equal(postfix.match(sasl('UGFzc3dvcmQ6'), Date.UTC(2026, 10, 28)).type, 'failure');
  assert.equal(postfix.match(sasl('Connection lost to authentication server'), Date.UTC(2026, 10, 28)).type, 'missed');
  assert.equal(postfix.match(sasl('Invalid authentication mechanism'), Date.UTC(2026, 10, 28)).type, 'missed');
});

// fail2ban's postfix and dovecot regexes (filter.d of the Debian package the sample test unpacks),
// with pban's tags: fail2ban's `\[<HOST>\]` is the bare address, `<ADDR>` in pban; its prefregex
// becomes the prefix without the `<F-CONTENT>.+</F-CONTENT>$` tail; the Python-only `(?i)` is
// dropped (JavaScript has no inline flags).
const F2B_PREFIXES = [
  String.raw`(?:warning:|(?:\w+: (?:milter-)?reject:|(?:improper command pipelining|too many errors) after \S+)|(?:lost connection after(?! DATA) [A-Z]+|disconnect(?= from \S+(?: \S+=\d+)* auth=0/(?:[1-9]|\d\d+))|(?:PREGREET \d+|HANGUP) after \S+|COMMAND (?:TIME|COUNT|LENGTH) LIMIT)) `,
  String.raw`(?:(?:dovecot: )?auth(?:-worker)?(?:\([^\)]+\))?: )?(?:pam_unix(?:\(dovecot:auth\))?: |(?:pop3|imap|managesieve|submission)-login: )?(?:Info: )?(?:conn \w+:auth(?:-worker)? \([^\)]+\): auth(?:-worker)?<\d+>: )?`,
];
const F2B_FAILREGEXES = [
  String.raw`[A-Z]{4} from [^[]*\[<ADDR>\](?::\d+)?: [45][50][04] [45]\.\d\.\d+ (?:(?:<[^>]*>)?: )?(?:(?:Helo command|(?:Sender|Recipient) address) rejected: )?(?:Service unavailable|(?:Client host|Command|Data command) rejected|Relay access denied|(?:Host|Domain) not found|need fully-qualified hostname|match|[Uu](?:ser unknown|ndeliverable address))\b`,
  String.raw`from [^[]*\[<ADDR>\](?::\d+)?:?`,
  String.raw`[^[]*\[<ADDR>\](?::\d+)?: SASL (LOGIN|PLAIN|(?:CRAM|DIGEST)-MD5) authentication failed:(?! Connection lost to authentication server| Invalid authentication mechanism)`,
  String.raw`[^[]*\[<ADDR>\](?::\d+)?: SASL (LOGIN|PLAIN|(?:CRAM|DIGEST)-MD5) authentication failed:(?! Connection lost to authentication server)`,
  String.raw`[A-Z]{4} from [^[]*\[<ADDR>\](?::\d+)?: [45]54 [45]\.7\.1 Service unavailable; Client host \[\S+\] blocked\b`,
  String.raw`from [^[]*\[<ADDR>\](?::\d+)?$`,
  String.raw`authentication failure; logname=<F-ALT_USER1>\S*</F-ALT_USER1> uid=\S* euid=\S* tty=dovecot ruser=<F-USER>\S*</F-USER> rhost=<ADDR>(?:\s+user=<F-ALT_USER>\S*</F-ALT_USER>)?\s*$`,
  String.raw`(?:Aborted login|Disconnected|Remote closed connection|Client has quit the connection)(?:: (?:\w+\([^\):]*\) \w+|[^\(]+))* \((?:auth failed, \d+ attempts(?: in \d+ secs)?|tried to use (?:disabled|disallowed) \S+ auth|proxy dest auth failed)\):(?: user=<<F-USER>[^>]*</F-USER>>,)?(?: method=\S+,)? rip=<ADDR>(?:[^>]*(?:, session=<\S+>)?)\s*$`,
  String.raw`pam\(\S+,<ADDR>(?:,\S*)?\): pam_authenticate\(\) failed: (?:User not known to the underlying authentication module: \d+ Time\(s\)|Authentication failure \([Pp]assword mismatch\?\)|Permission denied)\s*$`,
  String.raw`[a-z\-]{3,15}\(\S*,<ADDR>(?:,\S*)?\): (?:[Uu]nknown user|[Ii]nvalid credentials|[Pp]assword mismatch)`,
  String.raw`(?:Aborted login|Disconnected|Remote closed connection|Client has quit the connection)(?:: (?:\w+\([^\):]*\) \w+|[^\(]+))* \((?:no auth attempts|disconnected before auth was ready,|client didn't finish \S+ auth,)(?: (?:in|waited) \d+ secs)?\):(?: user=<[^>]*>,)?(?: method=\S+,)? rip=<ADDR>(?:[^>]*(?:, session=<\S+>)?)\s*$`,
];

const f2bFilter = (failregex: string, prefix?: string): string =>
  `name = "f2b"\n${prefix === undefined ? '' : `prefix = '''${prefix}'''\n`}[[failregex]]\nid = "x"\nkind = "x"\nregex = '''${failregex}'''\n`;

test("fail2ban's postfix and dovecot regexes load", () => {
  for (const prefix of F2B_PREFIXES) assert.doesNotThrow(() => compileFilter(f2bFilter('from <ADDR>', prefix), 'f2b.toml', undefined, UTC), prefix);
  for (const regex of F2B_FAILREGEXES) assert.doesNotThrow(() => compileFilter(f2bFilter(regex), 'f2b.toml', undefined, UTC), regex);
});

test("fail2ban's dovecot reject-reason group, ambiguous under repetition, answers on its attack line", () => {
  const f = compileFilter(f2bFilter(F2B_FAILREGEXES[7] as string), 'f2b.toml', undefined, UTC);
  const attack = `2026-01-01T00:00:00Z Disconnected${': a'.repeat(60)}!`;
  assert.equal(f.match(attack, Date.now()).type, 'missed');
  const real = '2026-01-01T00:00:00Z Disconnected: Inactivity (auth failed, 1 attempts in 2 secs): user=<bob>, method=PLAIN, rip=198.51.100.4, lip=192.0.2.1, session=<x>';
  const r = f.match(real, Date.now());
  assert.equal(r.type === 'failure' ? r.failure.ip : r.type, '198.51.100.4');
});

// The fallback is only sound if V8's linear-time engine gives the same answer as the backtracking
// engine. Checked here on every shipped regex over a generated Postfix log: same match, same
// captures, same end, when each is forced onto each engine.
test('the linear-time engine answers exactly like the backtracking engine on the shipped regexes', async () => {
  const { generateLog } = await import('../helpers/generate-log.js');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { expandTags } = await import('../../src/filters/tags.js');
  const { parse } = await import('smol-toml');
  const { dateHeaderEnd } = await import('../../src/filters/dates.js');
  const { FILTERS_DIR } = await import('../../src/paths.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'pban-linear-'));
  try {
    await generateLog({ lines: 3000, seed: 7, out: path.join(dir, 'mail.log') });
    const lines = readFileSync(path.join(dir, 'mail.log'), 'utf8').split('\n').filter((l) => l !== '');
    const doc = parse(readFileSync(path.join(FILTERS_DIR, 'postfix.toml'), 'utf8')) as { prefix: string; failregex: { regex: string }[] };
    const pair = (src: string, role: 'prefix' | 'failregex'): [RegExp, RegExp] => {
      const { source } = compileLinear(expandTags(src, role).source);
      return [new RegExp(source, 'y'), new RegExp(source, 'ly')];
    };
    const prefix = pair(doc.prefix, 'prefix');
    const regexes = doc.failregex.map((r) => pair(r.regex, 'failregex'));
    const run = (re: RegExp, line: string, at: number): string => {
      re.lastIndex = at;
      const m = re.exec(line);
      return m === null ? 'null' : JSON.stringify([...m, re.lastIndex]);
    };
    let compared = 0;
    let matched = 0;
    for (const line of lines) {
      const start = dateHeaderEnd(line, 0, line.length);
      assert.equal(run(prefix[1], line, start), run(prefix[0], line, start), line);
      prefix[0].lastIndex = start;
      if (!prefix[0].test(line)) continue;
      const msg = prefix[0].lastIndex;
      for (const [y, l] of regexes) {
        const a = run(y, line, msg);
        assert.equal(run(l, line, msg), a, line);
        compared++;
        if (a !== 'null') matched++;
      }
    }
    assert.ok(compared > 10_000 && matched > 100, `${compared} compared, ${matched} matched`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
