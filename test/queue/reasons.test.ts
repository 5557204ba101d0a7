import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classifyReason, NOT_ACCEPTING, reasonKey, type ReasonClass } from '../../src/queue/reasons.js';

// Deferral reasons as Postfix writes them (delay_reason in postqueue -j).
const CASES: readonly (readonly [string, ReasonClass])[] = [
  ['Host or domain name not found. Name service error for name=forged.example type=MX: Host not found, try again', 'no-such-domain'],
  ['Host or domain name not found. Name service error for name=forged.example type=A: Host not found', 'no-such-domain'],
  ['unable to look up host forged1.invalid: Temporary failure in name resolution', 'no-such-domain'],
  ['unable to look up host x.invalid: Name or service not known', 'no-such-domain'],
  ['connect to mx.example.net[192.0.2.25]:25: Connection refused', 'unreachable'],
  ['connect to mx.example.net[192.0.2.25]:25: Connection timed out', 'unreachable'],
  ['delivery temporarily suspended: connect to mx.example.net[2001:db8::25]:25: No route to host', 'unreachable'],
  ['connect to mx.example.net[192.0.2.25]:25: Network is unreachable', 'unreachable'],
  ['lost connection with mx.example.net[192.0.2.25] while receiving the initial server greeting', 'unreachable'],
  ['host mx.example.net[192.0.2.25] said: 550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)', 'no-such-user'],
  ['host mx.example.net[192.0.2.25] said: 550 5.1.1 The email account that you tried to reach does not exist. (in reply to RCPT TO command)', 'no-such-user'],
  ['host mx.example.net[192.0.2.25] said: 450 4.1.1 <x@example.net>: Recipient address rejected: unverified address (in reply to RCPT TO command)', 'temporary'],
  ['host mx.example.net[192.0.2.25] said: 550 5.7.1 <x@example.net>: Relay access denied (in reply to RCPT TO command)', 'refused'],
  ['host mx.example.net[192.0.2.25] said: 554 5.7.1 Service unavailable; client blocked (in reply to RCPT TO command)', 'refused'],
  ['mail for example.net does not accept mail (nullMX)', 'refused'],
  ['host mx.example.net[192.0.2.25] said: 450 4.7.1 greylisted, try again in 5 minutes (in reply to RCPT TO command)', 'temporary'],
  ['greylisted, try again later', 'temporary'],
  ['backend is down for maintenance', 'temporary'],
  ['host mx.example.net[192.0.2.25] said: 452 4.2.2 Mailbox full (in reply to RCPT TO command)', 'temporary'],
  ['conversation with mx.example.net[192.0.2.25] timed out while sending end of data -- message may be sent more than once', 'other'],
  ['mail transport unavailable', 'other'],
];

describe('deferral reason classifier', () => {
  for (const [reason, cls] of CASES) {
    it(`${cls}: ${reason.slice(0, 70)}`, () => assert.equal(classifyReason(reason), cls));
  }

  it('an empty or missing reason says nothing', () => {
    assert.equal(classifyReason(undefined), 'other');
    assert.equal(classifyReason('  '), 'other');
  });

  it('only the classes that mean "does not take mail" make a bounce backscatter', () => {
    assert.deepEqual([...NOT_ACCEPTING].sort(), ['no-such-domain', 'no-such-user', 'refused', 'unreachable']);
  });

  it('counts reasons that differ only in names and addresses together', () => {
    assert.equal(
      reasonKey('Host or domain name not found. Name service error for name=a.example type=MX: Host not found, try again'),
      reasonKey('Host or domain name not found. Name service error for name=b.example type=MX: Host not found, try again'),
    );
    assert.equal(reasonKey('connect to mx.a.example[192.0.2.1]:25: Connection refused'), 'connect to …: Connection refused');
    assert.equal(reasonKey('unable to look up host forged1.invalid: Temporary failure in name resolution'), 'unable to look up host …: Temporary failure in name resolution');
    assert.equal(reasonKey('said: 550 <a@example.net>: User unknown'), 'said: 550 <…>: User unknown');
  });
});
