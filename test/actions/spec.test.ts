import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseActionSpec } from '../../src/actions/spec.js';

test('a bare name, a path, and name[key=value] forms', () => {
  assert.deepEqual(parseActionSpec('nftables'), { ref: 'nftables', params: {} });
  assert.deepEqual(parseActionSpec('/etc/pban/actions/mine.toml'), { ref: '/etc/pban/actions/mine.toml', params: {} });
  assert.deepEqual(parseActionSpec('iptables[variant=-legacy]'), { ref: 'iptables', params: { variant: '-legacy' } });
  assert.deepEqual(parseActionSpec('nftables[blocktype=reject, priority="filter - 20"]'), { ref: 'nftables', params: { blocktype: 'reject', priority: 'filter - 20' } });
  assert.deepEqual(parseActionSpec('x[a="with, comma \\" quote"]'), { ref: 'x', params: { a: 'with, comma " quote' } });
  assert.deepEqual(parseActionSpec('x[]'), { ref: 'x', params: {} });
});

test('malformed references are refused with a message', () => {
  for (const bad of ['', '[a=b]', 'nft ables', 'x[a]', 'x[=b]', 'x[a=b', 'x[a=b, a=c]', '-x', 'x[a="b]']) {
    const r = parseActionSpec(bad);
    assert.ok('error' in r, `accepted ${JSON.stringify(bad)}`);
  }
});

test('a list value (JSON strings) gives a command its arguments; a malformed list is refused', () => {
  assert.deepEqual(parseActionSpec('command[ban_command=["/usr/local/bin/notify", "{target}", "a \\"b\\", c"], check_command=[]]'), {
    ref: 'command',
    params: { ban_command: ['/usr/local/bin/notify', '{target}', 'a "b", c'], check_command: [] },
  });
  for (const bad of ['command[a=["x", 1]]', 'command[a=["x"]', 'command[a=[x]]', 'command[a=["\\u12"]]']) {
    assert.ok('error' in parseActionSpec(bad), `accepted ${bad}`);
  }
});
