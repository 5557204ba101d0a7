import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, parseReply, parseRequestLine, encodeRequest, encodeError, OK_PREFIX } from '../../src/control/protocol.js';

interface Case {
  readonly name: string;
  readonly line: string;
  /** Expected error code, or null when the request is valid. */
  readonly code: string | null;
}

const cases: readonly Case[] = [
  { name: 'status without args', line: '{"v":1,"cmd":"status"}', code: null },
  { name: 'status of one jail', line: '{"v":1,"cmd":"status","args":{"jail":"postfix"}}', code: null },
  { name: 'ban with a permanent time', line: '{"v":1,"cmd":"ban","args":{"jail":"postfix","target":"192.0.2.1","timeMs":null}}', code: null },
  { name: 'unban all of one jail', line: '{"v":1,"cmd":"unban","args":{"all":true,"jail":"postfix"}}', code: null },
  { name: 'not JSON', line: 'hello daemon', code: 'request.invalidJson' },
  { name: 'JSON but not an object', line: '[1,2,3]', code: 'request.invalid' },
  { name: 'no version', line: '{"cmd":"status"}', code: 'request.version' },
  { name: 'future version', line: '{"v":2,"cmd":"status"}', code: 'request.version' },
  { name: 'unknown command', line: '{"v":1,"cmd":"rm -rf /"}', code: 'request.unknownCommand' },
  { name: 'prototype key as command', line: '{"v":1,"cmd":"__proto__"}', code: 'request.unknownCommand' },
  { name: 'args not an object', line: '{"v":1,"cmd":"status","args":"postfix"}', code: 'request.invalidArgs' },
  { name: 'unknown argument', line: '{"v":1,"cmd":"status","args":{"jial":"x"}}', code: 'request.invalidArgs' },
  { name: 'ban without target', line: '{"v":1,"cmd":"ban","args":{"jail":"postfix"}}', code: 'request.invalidArgs' },
  { name: 'ban with a string time', line: '{"v":1,"cmd":"ban","args":{"jail":"p","target":"192.0.2.1","timeMs":"2h"}}', code: 'request.invalidArgs' },
  { name: 'ban with a negative time', line: '{"v":1,"cmd":"ban","args":{"jail":"p","target":"192.0.2.1","timeMs":-5}}', code: 'request.invalidArgs' },
  { name: 'unban with neither targets nor all', line: '{"v":1,"cmd":"unban","args":{}}', code: 'request.invalidArgs' },
  { name: 'unban with both targets and all', line: '{"v":1,"cmd":"unban","args":{"targets":["192.0.2.1"],"all":true}}', code: 'request.invalidArgs' },
  { name: 'unban with a non-string target', line: '{"v":1,"cmd":"unban","args":{"targets":[1]}}', code: 'request.invalidArgs' },
];

for (const c of cases) {
  test(`request: ${c.name}`, () => {
    const r = parseRequestLine(c.line);
    if (c.code === null) assert.ok(!('error' in r), JSON.stringify(r));
    else {
      assert.ok('error' in r, 'expected an error');
      assert.equal(r.error.code, c.code);
      assert.ok(r.error.message.length > 0);
    }
  });
}

test('encodeRequest round-trips through parseRequestLine', () => {
  const line = encodeRequest('ban', { jail: 'postfix', target: '2001:db8::/64', timeMs: 7_200_000 });
  assert.ok(line.endsWith('\n'));
  const r = parseRequestLine(line.trim());
  assert.deepEqual(r, { v: 1, cmd: 'ban', args: { jail: 'postfix', target: '2001:db8::/64', timeMs: 7_200_000 } });
});

test('replies: success, error and garbage all parse to one shape', () => {
  assert.deepEqual(parseReply(OK_PREFIX + '{"a":1}}\n'), { v: 1, ok: true, data: { a: 1 } });
  assert.deepEqual(parseReply(encodeError('jail.unknown', 'unknown jail "x"')), { v: 1, ok: false, error: { code: 'jail.unknown', message: 'unknown jail "x"' } });
  const g = parseReply('<html>');
  assert.equal(g.ok, false);
  assert.equal(!g.ok && g.error.code, 'reply.invalidJson');
  const v = parseReply('{"v":9,"ok":true}');
  assert.equal(!v.ok && v.error.code, 'reply.invalid');
});

test('every command in the table has a summary, examples that use it, and named params', () => {
  for (const [name, spec] of Object.entries(COMMANDS)) {
    assert.equal(spec.name, name);
    assert.ok(spec.summary.length > 10, name);
    assert.ok(spec.examples.length > 0 && spec.examples.every((e) => e.startsWith(`pban ${name}`)), name);
  }
});
