import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPban } from '../helpers/run-cli.js';
import { VERSION } from '../../src/version.js';

test('pban --help prints usage and exits 0', () => {
  const r = runPban(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Usage: pban/);
});

test('pban --version prints the version', () => {
  const r = runPban(['--version']);
  assert.equal(r.status, 0);
  assert.equal(r.stdout.trim(), VERSION);
});

test('an unknown command is a usage error: exit 2, one line on stderr', () => {
  const r = runPban(['no-such-command']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: /);
});
