import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dateHeaderEnd, parseDate, resolveZone, utcMs } from '../../src/filters/dates.js';

const UTC = resolveZone('UTC');
const BERLIN = resolveZone('Europe/Berlin');
const NOW = Date.UTC(2026, 5, 15, 12, 0, 0); // 2026-06-15 12:00 UTC

const cases: { name: string; line: string; zone?: typeof UTC; now?: number; want: string | null; format?: string; rest?: string }[] = [
  { name: 'BSD, space-padded day', line: 'Jun  4 10:11:12 mail postfix/smtpd[1]: x', want: '2026-06-04T10:11:12.000Z', format: 'bsd-syslog', rest: 'mail postfix' },
  { name: 'BSD, zero-padded day (maillog_file)', line: 'Jun 04 10:11:12 mail postfix/smtpd[1]: x', want: '2026-06-04T10:11:12.000Z', format: 'bsd-syslog', rest: 'mail postfix' },
  { name: 'BSD, unpadded day', line: 'Jun 4 10:11:12 mail postfix/smtpd[1]: x', want: '2026-06-04T10:11:12.000Z', format: 'bsd-syslog', rest: 'mail postfix' },
  { name: 'BSD, local zone with DST', line: 'Jun 14 10:11:12 mail x', zone: BERLIN, want: '2026-06-14T08:11:12.000Z' },
  { name: 'BSD, winter in Berlin', line: 'Jan 14 10:11:12 mail x', zone: BERLIN, want: '2026-01-14T09:11:12.000Z' },
  { name: 'BSD, less than a day ahead stays this year', line: 'Jun 16 11:00:00 mail x', want: '2026-06-16T11:00:00.000Z' },
  { name: 'BSD, more than a day ahead is last year', line: 'Jun 17 12:00:01 mail x', want: '2025-06-17T12:00:01.000Z' },
  { name: 'BSD, December read in January', line: 'Dec 31 23:59:59 mail x', now: Date.UTC(2027, 0, 1, 0, 5), want: '2026-12-31T23:59:59.000Z' },
  { name: 'BSD, January read late on Dec 31 in a zone ahead of UTC', line: 'Jan  1 00:30:00 mail x', zone: resolveZone('Pacific/Auckland'), now: Date.UTC(2026, 11, 31, 11, 45), want: '2026-12-31T11:30:00.000Z' },
  { name: 'BSD, Feb 29 goes to the last leap year', line: 'Feb 29 10:00:00 mail x', now: Date.UTC(2027, 5, 1), want: '2024-02-29T10:00:00.000Z' },
  { name: 'RFC 3339 with fraction and offset', line: '2025-02-02T09:50:42.211184+01:00 mail postfix/smtpd[1]: x', want: '2025-02-02T08:50:42.211Z', format: 'rfc3339', rest: 'mail postfix' },
  { name: 'RFC 3339 with Z', line: '2022-04-14T00:36:03.150Z mail x', want: '2022-04-14T00:36:03.150Z', format: 'rfc3339' },
  { name: 'RFC 3339 offset without colon', line: '2022-04-14T00:36:03-0230 mail x', want: '2022-04-14T03:06:03.000Z', format: 'rfc3339' },
  { name: 'ISO without a zone uses the configured one', line: '2013-08-11 03:56:40 auth-worker(default): x', zone: BERLIN, want: '2013-08-11T01:56:40.000Z', format: 'iso-local', rest: 'auth-worker' },
  { name: 'RFC 5424', line: '<22>1 2026-03-01T10:00:00.5Z mail postfix/smtpd 123 - - x', want: '2026-03-01T10:00:00.500Z', format: 'rfc5424', rest: 'mail postfix' },
  { name: 'TAI64N', line: '@400000004c91b044077a9e94 imap-login: x', want: '2010-09-16T05:51:00.125Z', format: 'tai64n', rest: 'imap-login' },
  { name: 'no date (journald -o cat)', line: 'postfix/smtpd[1]: warning: x', want: null },
  { name: 'bad month', line: 'Foo  4 10:11:12 mail x', want: null },
  { name: 'bad hour', line: 'Jun  4 25:11:12 mail x', want: null },
  { name: 'bad day of month', line: '2025-02-30T10:00:00Z mail x', want: null },
  { name: 'garbage', line: '\u0000\u0001\u0002 binary \uFFFD junk', want: null },
];

for (const c of cases) {
  test(`date: ${c.name}`, () => {
    const d = parseDate(c.line, 0, c.line.length, c.zone ?? UTC, c.now ?? NOW);
    if (c.want === null) {
      assert.equal(d, null);
      return;
    }
    assert.ok(d, 'expected a date');
    assert.equal(new Date(d.time).toISOString(), c.want);
    if (c.format) assert.equal(d.format, c.format);
    if (c.rest) assert.ok(c.line.startsWith(c.rest, dateHeaderEnd(c.line, 0, c.line.length)), `header end at ${dateHeaderEnd(c.line, 0, c.line.length)}`);
  });
}

test('an unknown zone name is refused', () => {
  assert.throws(() => resolveZone('Mars/Olympus_Mons'), RangeError);
});

test('utcMs agrees with Date.UTC', () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const years = [0, 1, 99, 100, 1599, 1600, 1700, 1899, 1900, 1969, 1970, 2000, 2024, 2100, 9999, 10000];
  for (let k = 0; k < 20000; k++) {
    const y = k < years.length * 12 ? (years[k % years.length] as number) : rnd(10100);
    const args = [y, k < years.length * 12 ? Math.floor(k / years.length) : rnd(12), 1 + rnd(31), rnd(24), rnd(60), rnd(60), rnd(1000)] as const;
    assert.equal(utcMs(...args), Date.UTC(...args), args.join(','));
  }
  assert.equal(utcMs(2024, 1, 29, 0, 0, 0, 0), Date.UTC(2024, 1, 29));
  assert.equal(utcMs(2023, 1, 29, 0, 0, 0, 0), Date.UTC(2023, 2, 1), 'a day past the month carries over');
  assert.equal(utcMs(2023, 12, 1, 0, 0, 0, 0), Date.UTC(2024, 0, 1), 'a month past the year goes to Date.UTC');
});
