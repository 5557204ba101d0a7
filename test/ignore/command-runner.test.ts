// The ignore command's verdict cache, with a recording executor: one run per address however
// many failures, at most a few at once, verdicts forgotten after their time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.js';
import type { CommandResult, Executor } from '../../src/actions/executor.js';
import { IgnoreCommand } from '../../src/ignore/command-runner.js';
import { IGNORE_CONCURRENCY, ignoreArgv, ignoreCommandProblem } from '../../src/ignore/command-spec.js';

test('verdicts: 0 ignores, 1 counts, anything else counts with a warning; cached for cacheMs; one run per address; bounded concurrency', async () => {
  const clock = new ManualClock(1000);
  let running = 0;
  let most = 0;
  const calls: string[][] = [];
  const exec: Executor = {
    async run(argv): Promise<CommandResult> {
      calls.push([...argv]);
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      const ip = argv[1]!;
      return { status: ip.endsWith('.1') ? 0 : ip.endsWith('.2') ? 1 : 2, stdout: '', stderr: 'oops' };
    },
  };
  const warnings: object[] = [];
  const ig = new IgnoreCommand({ argv: ['/bin/judge', '<ip>', 'x<ip>'], timeoutMs: 1000, cacheMs: 60_000 }, { jail: 'j', clock, executor: exec, log: { warn: (o) => warnings.push(o), debug: () => undefined } });
  const ips = ['192.0.2.1', '192.0.2.2', '192.0.2.3', ...Array.from({ length: 20 }, (_, i) => `198.51.100.${i + 10}`)];
  await Promise.all([ig.resolve([...ips, ...ips]), ig.resolve(ips)]);
  assert.equal(calls.length, ips.length);
  assert.ok(most <= IGNORE_CONCURRENCY, `${most} at once`);
  assert.deepEqual(calls[0], ['/bin/judge', '192.0.2.1', 'x192.0.2.1']);
  assert.deepEqual([ig.verdict('192.0.2.1'), ig.verdict('192.0.2.2'), ig.verdict('192.0.2.3'), ig.verdict('203.0.113.1')], [true, false, false, undefined]);
  assert.equal(warnings.length, 21);
  clock.set(1000 + 60_000);
  assert.equal(ig.verdict('192.0.2.1'), undefined);
  await ig.resolve(['192.0.2.1']);
  assert.equal(calls.length, ips.length + 1);
});

test('the argv rules', () => {
  assert.deepEqual(ignoreArgv(['/x', '<ip>', '--a=<ip>'], '2001:db8::1'), ['/x', '2001:db8::1', '--a=2001:db8::1']);
  assert.equal(ignoreCommandProblem(['/x', '<ip>']), undefined);
  assert.match(ignoreCommandProblem([]) ?? '', /must name a program/);
  assert.match(ignoreCommandProblem(['<ip>']) ?? '', /plain path/);
});
