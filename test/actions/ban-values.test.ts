import assert from 'node:assert/strict';
import { test } from 'node:test';
import { banValues } from '../../src/actions/ban-values.js';
import type { Address, ExplainedBan } from '../../src/events.js';

const ban: ExplainedBan = {
  target: { addr: '192.0.2.7' as Address, prefix: 32, family: 4 },
  jail: 'postfix', kind: 'address', created: Date.UTC(2026, 11, 1, 12), until: null, failures: 3, banNumber: 2,
  kinds: ['sasl', 'relay'],
  matches: [
    { time: 1, jail: 'postfix', kind: 'sasl', regexId: 'sasl', regexIndex: 0, line: 'Dec  1 mx postfix/smtpd[1]: warning: unknown[192.0.2.7]: SASL LOGIN authentication failed' },
    // a client-written line with a CR and an escape sequence: it must stay one text line, visible
    { time: 2, jail: 'postfix', kind: 'relay', regexId: 'relay', regexIndex: 1, line: 'from=<a\rSubject: x\x1b[2J>' },
  ],
};

test('banValues: failures, kinds and the matched lines, one text line each with control characters escaped', () => {
  const v = banValues(ban);
  assert.equal(v.get('failures'), '3');
  assert.equal(v.get('kinds'), 'sasl,relay');
  assert.equal(v.get('ban_until'), 'permanent');
  assert.equal(v.get('matches'), `${ban.matches![0]!.line}\nfrom=<a\\x0dSubject: x\\x1b[2J>`);
});

test('banValues: a ban without evidence (manual, restored) has no matches and no kinds', () => {
  const { matches: _m, kinds: _k, ...plain } = ban;
  const v = banValues(plain);
  assert.equal(v.get('matches'), '');
  assert.equal(v.get('kinds'), '');
});
