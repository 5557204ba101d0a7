import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WhyReply } from '../../src/control/types.js';
import { renderStillBlocked, renderTraceLines, renderWhy, unbanCommandFor } from '../../src/cli/format/why.js';
import { safeText as printableLine } from '../../src/safe-text.js';
import { formatTimestamp } from '../../src/cli/format/time.js';

const T = Date.UTC(2026, 10, 30, 10, 0, 0);
const line = (ip: string): string => `Nov 30 10:00:00 mx postfix/smtpd[1]: warning: unknown[${ip}]: SASL LOGIN authentication failed`;

test('printableLine: control characters of a hostile line are shown escaped', () => {
  assert.equal(printableLine('user=\u001b[31mred\u0007\r\n\u009b'), 'user=\\x1b[31mred\\x07\\x0d\\x0a\\x9b');
  assert.equal(printableLine('plain ünïcode'), 'plain ünïcode');
});

test('renderWhy: blocked by a network, with kinds and lines; a manual ban says so', () => {
  const r: WhyReply = {
    target: '192.0.2.15/32',
    blocked: true,
    bans: [
      { target: '192.0.2.0/24', jail: 'postfix', kind: 'network', failures: 6, bannedAt: T, expiresAt: T + 3_600_000, banNumber: 2, kinds: ['sasl', 'reject'], lines: [{ time: T, kind: 'sasl', regex: 'sasl-auth', regexIndex: 0, line: line('192.0.2.10') }] },
      { target: '192.0.2.15/32', jail: 'sasl', kind: 'manual', failures: 0, bannedAt: T, expiresAt: null, banNumber: 1, kinds: [], lines: [] },
    ],
    failing: [],
  };
  const text = renderWhy(r, T + 60_000);
  assert.equal(
    text,
    '192.0.2.15 is blocked by 2 bans:\n' +
      '  192.0.2.0/24 in jail postfix: network ban #2, 6 failures, kinds sasl, reject\n' +
      `    since ${formatTimestamp(T)}, until ${formatTimestamp(T + 3_600_000)} (in 59m)\n` +
      '    lines:\n' +
      `      ${formatTimestamp(T)} sasl (sasl-auth)  ${line('192.0.2.10')}\n` +
      '  192.0.2.15 in jail sasl: manual ban #1, 0 failures\n' +
      `    since ${formatTimestamp(T)}, permanent\n` +
      '    banned by hand\n',
  );
});

test('renderWhy: not blocked, failing or not', () => {
  const failing: WhyReply = { target: '203.0.113.5/32', blocked: false, bans: [], failing: [{ jail: 'postfix', failures: 1, lines: [{ time: T, kind: 'sasl', regex: 'sasl-auth', regexIndex: 0, line: line('203.0.113.5') }] }] };
  assert.equal(
    renderWhy(failing, T),
    '203.0.113.5 is not blocked: no active ban covers it.\n' + '203.0.113.5 is failing in jail postfix: 1 failure in the window\n' + `    ${formatTimestamp(T)} sasl (sasl-auth)  ${line('203.0.113.5')}\n`,
  );
  assert.equal(renderWhy({ target: '2001:db8::1/128', blocked: false, bans: [], failing: [] }, T), '2001:db8::1 is not blocked: no active ban covers it.\n2001:db8::1 is not failing in any jail.\n');
  assert.equal(renderTraceLines([], '  '), '  (no matched lines kept)\n');
});

test('unban: the covering networks, with the exact command that lifts each', () => {
  const net = { target: '192.0.2.0/24', jail: 'postfix', kind: 'network' as const, failures: 6, bannedAt: T, expiresAt: null, banNumber: 1 };
  assert.equal(unbanCommandFor(net), 'pban unban 192.0.2.0/24 --jail postfix');
  assert.equal(
    renderStillBlocked('192.0.2.15/32', [net]),
    'pban: 192.0.2.15 is still blocked by a network ban:\n  192.0.2.0/24 in jail postfix (lift it with: pban unban 192.0.2.0/24 --jail postfix)\n',
  );
  assert.match(renderStillBlocked('192.0.2.15/32', [net, { ...net, target: '192.0.2.15/32', jail: 'sasl' }]), /still blocked by bans:\n.*\n  192\.0\.2\.15 in jail sasl \(lift it with: pban unban 192\.0\.2\.15 --jail sasl\)\n$/);
});
