import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyseMessage, NO_HOSTILES, type AnalysedMessage } from '../../src/queue/analyse.js';
import { parseSelector, select } from '../../src/queue/select.js';
import { UsageError } from '../../src/errors.js';
import type { QueueMessage } from '../../src/queue/postqueue.js';

const NOW = Date.UTC(2026, 11, 1, 12);
const HOUR = 3_600_000;

function msg(id: string, sender: string, to: string, reason: string | undefined, ageH: number, client: string | null): AnalysedMessage {
  const m: QueueMessage = { id, queue: 'deferred', arrival: NOW - ageH * HOUR, size: 100, sender, recipients: [{ address: to, reason }] };
  return analyseMessage(m, { client, source: client === null ? null : 'envelope', bouncedId: null }, NO_HOSTILES);
}

const DNS = 'Host or domain name not found. Name service error for name=forged.example type=MX: Host not found, try again';
const QUEUE = [
  msg('AAAAAA1', 'MAILER-DAEMON', 'victim@forged.example', DNS, 30, '203.0.113.7'),
  msg('AAAAAA2', 'MAILER-DAEMON', 'erin@example.org', 'greylisted, try again later', 2, '192.0.2.5'),
  msg('AAAAAA3', 'carol@example.com', 'dave@example.net', 'connect to mx.example.net[192.0.2.25]:25: Connection refused', 50, '192.0.2.5'),
  msg('AAAAAA4', 'spam@spammer.example', 'x@example.net', undefined, 0.1, '2001:db8:2::9'),
];

const ids = (flags: Parameters<typeof parseSelector>[0]): string[] => select(parseSelector(flags), QUEUE, NOW).map((m) => m.id);

describe('queue selectors', () => {
  it('refuses to select without a selector', () => {
    assert.throws(() => parseSelector({}), (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /no selector/.test(e.message));
    assert.throws(() => parseSelector({ backscatter: false }), UsageError);
  });

  it('--backscatter: the bounce to a dead domain only', () => {
    assert.deepEqual(ids({ backscatter: true }), ['AAAAAA1']);
  });

  it('--sender: "<>", an address, or @domain, case-insensitive', () => {
    assert.deepEqual(ids({ sender: '<>' }), ['AAAAAA1', 'AAAAAA2']);
    assert.deepEqual(ids({ sender: 'Carol@Example.com' }), ['AAAAAA3']);
    assert.deepEqual(ids({ sender: '@spammer.example' }), ['AAAAAA4']);
  });

  it('--recipient-domain, --client (address or network, IPv6 too), --older-than, --reason', () => {
    assert.deepEqual(ids({ recipientDomain: 'EXAMPLE.net' }), ['AAAAAA3', 'AAAAAA4']);
    assert.deepEqual(ids({ client: '192.0.2.0/24' }), ['AAAAAA2', 'AAAAAA3']);
    assert.deepEqual(ids({ client: '2001:db8:2::/48' }), ['AAAAAA4']);
    assert.deepEqual(ids({ client: '203.0.113.7' }), ['AAAAAA1']);
    assert.deepEqual(ids({ olderThan: '1d' }), ['AAAAAA1', 'AAAAAA3']);
    assert.deepEqual(ids({ reason: 'connection REFUSED|greylist' }), ['AAAAAA2', 'AAAAAA3']);
  });

  it('combines selectors with AND', () => {
    assert.deepEqual(ids({ sender: '<>', olderThan: '1d' }), ['AAAAAA1']);
    assert.deepEqual(ids({ client: '192.0.2.0/24', sender: '<>', reason: 'refused' }), []);
  });

  it('says which selector is wrong, as a usage error', () => {
    const bad: [Parameters<typeof parseSelector>[0], RegExp][] = [
      [{ client: '192.0.2.300' }, /^--client: /],
      [{ olderThan: 'soon' }, /^--older-than: /],
      [{ olderThan: '-1' }, /^--older-than: /],
      [{ reason: '(' }, /^--reason: invalid regular expression/],
      [{ recipientDomain: 'a b' }, /^--recipient-domain: /],
      [{ sender: ' ' }, /^--sender: empty/],
    ];
    for (const [flags, re] of bad) assert.throws(() => parseSelector(flags), (e: unknown) => e instanceof UsageError && re.test(e.message), JSON.stringify(flags));
  });
});
