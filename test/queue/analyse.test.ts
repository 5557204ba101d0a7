import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ageBucket, analyseMessage, summarise, NO_HOSTILES, type Hostiles } from '../../src/queue/analyse.js';
import type { QueueMessage } from '../../src/queue/postqueue.js';
import { target } from '../../src/cidr.js';

const NOW = Date.UTC(2026, 11, 1, 12);
const DNS = 'Host or domain name not found. Name service error for name=forged.example type=MX: Host not found, try again';
const REFUSED = 'connect to mx.forged.example[192.0.2.25]:25: Connection refused';

const m = (id: string, sender: string, rcpts: [string, string | undefined][], queue: QueueMessage['queue'] = 'deferred', ageMs = 60_000): QueueMessage => ({
  id,
  queue,
  arrival: NOW - ageMs,
  size: 1,
  sender,
  recipients: rcpts.map(([address, reason]) => ({ address, reason })),
});
const smtp = (client: string) => ({ client, source: 'envelope' as const, bouncedId: null });

describe('backscatter', () => {
  it('is a bounce whose every tried recipient is at a domain that takes no mail', () => {
    assert.deepEqual(analyseMessage(m('A1', 'MAILER-DAEMON', [['v@forged.example', DNS]]), undefined, NO_HOSTILES).backscatter, ['bounce-to-dead-domain']);
    assert.deepEqual(analyseMessage(m('A2', '', [['v@a.example', DNS], ['w@b.example', REFUSED]]), undefined, NO_HOSTILES).backscatter, ['bounce-to-dead-domain']);
    // One recipient whose domain takes mail (greylisting) keeps the bounce legitimate.
    assert.deepEqual(analyseMessage(m('A3', 'MAILER-DAEMON', [['v@forged.example', DNS], ['erin@example.org', 'greylisted']]), undefined, NO_HOSTILES).backscatter, []);
    // Not tried yet: nothing known.
    assert.deepEqual(analyseMessage(m('A4', 'MAILER-DAEMON', [['v@forged.example', undefined]], 'active'), undefined, NO_HOSTILES).backscatter, []);
    // A sender's own mail to a dead domain is the sender's problem, not backscatter.
    assert.deepEqual(analyseMessage(m('A5', 'carol@example.com', [['v@forged.example', DNS]]), undefined, NO_HOSTILES).backscatter, []);
  });

  it('is any message from a banned client (inside a banned network) or one failing in the log', () => {
    const hostiles: Hostiles = { banned: [target('203.0.113.0/24'), target('2001:db8::/32')], failed: new Map([['198.51.100.7', 4]]) };
    const legit = m('B1', 'carol@example.com', [['dave@example.net', 'greylisted']]);
    assert.deepEqual(analyseMessage(legit, smtp('203.0.113.9'), hostiles).backscatter, ['banned-client']);
    assert.deepEqual(analyseMessage(legit, smtp('2001:db8:5::1'), hostiles).backscatter, ['banned-client']);
    assert.deepEqual(analyseMessage(legit, smtp('198.51.100.7'), hostiles).backscatter, ['failed-client']);
    assert.deepEqual(analyseMessage(legit, smtp('198.51.100.8'), hostiles).backscatter, []);
    assert.deepEqual(analyseMessage(legit, { client: null, source: null, bouncedId: null }, hostiles).backscatter, []);
  });
});

describe('queue summary', () => {
  it('counts by queue, sender (<> apart), recipient domain (once per message), age, reason and client', () => {
    const msgs = [
      analyseMessage(m('C1', 'MAILER-DAEMON', [['v@forged.example', DNS]], 'deferred', 2 * 86_400_000), smtp('203.0.113.9'), NO_HOSTILES),
      analyseMessage(m('C2', 'MAILER-DAEMON', [['w@forged.example', DNS.replace('name=forged', 'name=other')]], 'deferred', 10 * 86_400_000), smtp('203.0.113.9'), NO_HOSTILES),
      analyseMessage(m('C3', 'Carol@example.com', [['a@example.net', undefined], ['b@example.net', undefined]], 'hold'), undefined, NO_HOSTILES),
    ];
    const s = summarise(msgs, NOW);
    assert.equal(s.total, 3);
    assert.deepEqual(s.queues, { incoming: 0, active: 0, deferred: 2, hold: 1, maildrop: 0 });
    assert.deepEqual(s.senders, [{ key: '<>', count: 2 }, { key: 'carol@example.com', count: 1 }]);
    assert.deepEqual(s.recipientDomains, [{ key: 'forged.example', count: 2 }, { key: 'example.net', count: 1 }]);
    assert.deepEqual(s.ages.filter((a) => a.count > 0), [{ key: '< 1h', count: 1 }, { key: '1d-3d', count: 1 }, { key: '>= 3d', count: 1 }]);
    assert.equal(s.reasons.length, 1);
    assert.equal(s.reasons[0]!.class, 'no-such-domain');
    assert.equal(s.reasons[0]!.count, 2);
    assert.deepEqual(s.clients, [{ key: '203.0.113.9', count: 2 }]);
    assert.deepEqual(s.backscatter, { total: 2, why: { 'bounce-to-dead-domain': 2, 'banned-client': 0, 'failed-client': 0 } });
  });

  it('puts ages in buckets', () => {
    assert.equal(ageBucket(0), '< 1h');
    assert.equal(ageBucket(3_600_000), '1h-6h');
    assert.equal(ageBucket(86_400_000 * 5), '>= 3d');
  });
});
