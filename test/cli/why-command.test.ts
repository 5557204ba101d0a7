// The why command's usage edges, without a daemon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPban } from '../helpers/run-cli.js';

test('pban banned ADDRESS points to pban why; pban why refuses an invalid target as a usage mistake', () => {
  const b = runPban(['banned', '192.0.2.15', '--socket', '/nonexistent/pban.sock']);
  assert.equal(b.status, 2);
  assert.equal(b.stderr, 'pban: banned: "192.0.2.15" is an address, not a jail; to see what blocks it: pban why 192.0.2.15\n');
  const w = runPban(['why', '192.0.2.999', '--socket', '/nonexistent/pban.sock']);
  assert.equal(w.status, 2);
  assert.match(w.stderr, /^pban: .*192\.0\.2\.999/);
  const h = runPban(['why', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /every active ban that covers it/);
  assert.match(h.stdout, /--json/);
});
