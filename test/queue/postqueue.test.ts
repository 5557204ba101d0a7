import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { domainOf, isNullSender, parsePostqueueJson, parseQueueLine } from '../../src/queue/postqueue.js';

// Lines as Postfix 3.7 `postqueue -j` printed them in the system test.
const BOUNCE = '{"queue_name": "deferred", "queue_id": "74A6322406A", "arrival_time": 1796138624, "message_size": 2208, "forced_expire": false, "sender": "MAILER-DAEMON", "recipients": [{"address": "victim@forged1.invalid", "delay_reason": "unable to look up host forged1.invalid: Temporary failure in name resolution"}]}';
const LEGIT = '{"queue_name": "active", "queue_id": "C79492246F9", "arrival_time": 1796138624, "message_size": 266, "forced_expire": false, "sender": "carol@example.com", "recipients": [{"address": "dave@backend.pban.test"}, {"address": "erin@example.org", "delay_reason": "greylisted"}]}';

describe('postqueue -j parsing', () => {
  it('reads a message per line, arrival in ms, the delay reason per recipient', () => {
    const { messages, problems } = parsePostqueueJson(`${BOUNCE}\n${LEGIT}\n`);
    assert.deepEqual(problems, []);
    assert.equal(messages.length, 2);
    assert.deepEqual(messages[0], {
      id: '74A6322406A',
      queue: 'deferred',
      arrival: 1796138624000,
      size: 2208,
      sender: 'MAILER-DAEMON',
      recipients: [{ address: 'victim@forged1.invalid', reason: 'unable to look up host forged1.invalid: Temporary failure in name resolution' }],
    });
    assert.deepEqual(messages[1]!.recipients, [
      { address: 'dave@backend.pban.test', reason: undefined },
      { address: 'erin@example.org', reason: 'greylisted' },
    ]);
  });

  it('names a malformed line by number and still uses the others', () => {
    const text = [BOUNCE, '{"queue_name": "deferred", "queue_id": "ABC', 'null', LEGIT.replace('"active"', '"elsewhere"'), LEGIT].join('\n');
    const { messages, problems } = parsePostqueueJson(text);
    assert.deepEqual(
      messages.map((m) => m.id),
      ['74A6322406A', 'C79492246F9'],
    );
    assert.deepEqual(problems, [
      { line: 2, message: 'not JSON' },
      { line: 3, message: 'not a JSON object' },
      { line: 4, message: 'C79492246F9: unknown queue_name' },
    ]);
  });

  it('refuses a queue id that is not letters and digits (it goes back to postsuper)', () => {
    assert.equal(parseQueueLine(BOUNCE.replace('74A6322406A', '74A63\\nALL')), 'no valid queue_id');
    assert.equal(parseQueueLine(BOUNCE.replace('74A6322406A', 'ALL')), 'no valid queue_id');
    assert.equal(parseQueueLine(BOUNCE.replace('"victim@forged1.invalid"', '7')), '74A6322406A: a recipient without an address');
  });

  it('knows the null sender in its spellings', () => {
    for (const s of ['', '<>', 'MAILER-DAEMON', 'mailer-daemon@example.com']) assert.equal(isNullSender(s), true, s);
    for (const s of ['alice@example.com', 'daemon@example.com']) assert.equal(isNullSender(s), false, s);
  });

  it('takes the domain after the last @, lower case', () => {
    assert.equal(domainOf('"a@b"@Example.COM.'), 'example.com');
    assert.equal(domainOf('postmaster'), '');
  });
});
