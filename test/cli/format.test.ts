import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANSI, PLAIN, colorEnabled, visibleWidth } from '../../src/cli/format/color.js';
import { renderJailStatus } from '../../src/cli/format/reports.js';
import { renderTable } from '../../src/cli/format/table.js';
import { formatDuration, formatExpiry, formatRelative, parseDuration } from '../../src/cli/format/time.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const relCases: ReadonlyArray<readonly [number, string]> = [
  [NOW + 53 * 60_000 + 12_000, 'in 53m'],
  [NOW + 53 * 60_000 + 40_000, 'in 54m'],
  [NOW - 2 * 3_600_000, '2h ago'],
  [NOW + 2 * 3_600_000 + 5 * 60_000, 'in 2h 5m'],
  [NOW + 3 * 86_400_000 + 4 * 3_600_000, 'in 3d 4h'],
  [NOW + 45_000, 'in 45s'],
  [NOW + 4 * 3_600_000 - 3_000, 'in 4h'],
  [NOW + 59 * 60_000 + 50_000, 'in 1h'],
  [NOW + 59_700, 'in 1m'],
  [NOW + 400, 'now'],
];
for (const [at, want] of relCases) {
  test(`relative time ${want}`, () => assert.equal(formatRelative(at, NOW), want));
}

test('a permanent ban never expires', () => {
  assert.equal(formatExpiry(null, NOW), 'never');
  assert.equal(formatExpiry(NOW + 60_000, NOW), 'in 1m');
  assert.equal(formatDuration(7 * 86_400_000), '7d');
});

const durations: ReadonlyArray<readonly [string, number | null]> = [
  ['2h', 7_200_000],
  ['90s', 90_000],
  ['10m', 600_000],
  ['1d12h', 129_600_000],
  ['1d 12h', 129_600_000],
  ['1w', 604_800_000],
  ['600', 600_000],
  ['permanent', null],
  ['never', null],
];
for (const [text, ms] of durations) {
  test(`duration ${JSON.stringify(text)}`, () => assert.deepEqual(parseDuration(text), { ms }));
}
for (const bad of ['', '2x', 'h', '0', '0s', '-5m', '2h junk', '1.5h']) {
  test(`duration ${JSON.stringify(bad)} is refused`, () => {
    const r = parseDuration(bad);
    assert.ok('error' in r);
    assert.match(r.error, /^invalid duration/);
  });
}

test('colour only on a terminal and only without NO_COLOR', () => {
  assert.equal(colorEnabled({ isTTY: true }, {}), true);
  assert.equal(colorEnabled({ isTTY: false }, {}), false);
  assert.equal(colorEnabled({}, {}), false);
  assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '' }), true);
  assert.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  assert.equal(visibleWidth(ANSI.red('FAILING')), 7);
  assert.equal(PLAIN.red('x'), 'x');
});

test('tables align columns by visible width, numbers to the right', () => {
  const out = renderTable(
    [{ header: 'TARGET' }, { header: 'N', align: 'right' }, { header: 'STATE' }],
    [
      ['192.0.2.1', '5', ANSI.green('ok')],
      ['2001:db8::/64', '120', 'x'],
    ],
  );
  assert.equal(
    out.replace(/\x1b\[[0-9;]*m/g, ''),
    ['TARGET           N  STATE', '192.0.2.1        5  ok', '2001:db8::/64  120  x', ''].join('\n'),
  );
});

test("a jail's status is fail2ban's tree, networks in CIDR", () => {
  const text = renderJailStatus({
    name: 'postfix',
    filter: { name: 'postfix', currentlyFailed: 1, totalFailed: 7, sources: ['/var/log/mail.log'] },
    actions: { currentlyBanned: 2, totalBanned: 3, banned: ['192.0.2.1/32', '198.51.100.0/24'] },
  });
  assert.equal(
    text,
    [
      'Status for the jail: postfix',
      '|- Filter',
      '|  |- Filter:\tpostfix',
      '|  |- Currently failed:\t1',
      '|  |- Total failed:\t7',
      '|  `- File list:\t/var/log/mail.log',
      '`- Actions',
      '   |- Currently banned:\t2',
      '   |- Total banned:\t3',
      '   `- Banned IP list:\t192.0.2.1 198.51.100.0/24',
      '',
    ].join('\n'),
  );
});
