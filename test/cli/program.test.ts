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

// Sub-commands do not inherit the program's exitOverride in commander; without it they exit 1.
const usageMistakes: ReadonlyArray<readonly [string[], RegExp]> = [
  [['status', '--bogus'], /^error: unknown option '--bogus'/],
  [['start', '--bogus'], /^error: unknown option '--bogus'/],
  [['replay'], /^error: missing required argument 'log'/],
  [['ban', 'postfix'], /^error: missing required argument 'target'/],
  [['test-filter', 'postfix'], /^error: missing required argument 'log'/],
];
for (const [args, message] of usageMistakes) {
  test(`pban ${args.join(' ')} is a usage mistake: exit 2, one line on stderr`, () => {
    const r = runPban(args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
    assert.match(r.stderr, /\(run with --help for usage\)\n$/);
    assert.equal(r.stdout, '');
  });
}

test('an unknown command is one line too, suggestion included', () => {
  const r = runPban(['stauts']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: unknown command 'stauts' \(Did you mean status\?\) \(run with --help for usage\)\n$/);
});
