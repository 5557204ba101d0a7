// The launcher runs commands from its own small process (src/actions/launcher.ts) and keeps the
// Executor contract of SpawnExecutor: stdin whole, exit status and output, timeouts, aborts, a
// program that cannot start. And its failure modes: a launcher that dies fails the commands it
// ran (never silently) and the next command forks a new one; a closed launcher exits.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Launcher } from '../../src/actions/launcher.js';

const NODE = process.execPath;
// A temporary directory of this file's own: unit test files run in parallel, and another one's
// large stdin (a pban-stdin-* directory of its own) would otherwise show up as our leftover.
process.env['TMPDIR'] = mkdtempSync(path.join(os.tmpdir(), 'pban-tmp-test-'));
after(() => rmSync(process.env['TMPDIR']!, { recursive: true, force: true }));
const leftovers = (): string[] => readdirSync(os.tmpdir()).filter((n) => n.startsWith('pban-stdin-'));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
}

test('runs commands in its own process: stdin whole (pipe or file), status, stdout and stderr', async (t) => {
  const before = leftovers();
  const l = new Launcher();
  t.after(() => l.close());
  const small = 'add element inet t s { 192.0.2.1 }\n';
  const large = Array.from({ length: 20_000 }, (_, i) => `add element inet t s { 198.18.${i >> 8}.${i & 255} timeout 86400s }`).join('\n') + '\n';
  for (const input of [small, large, '']) {
    const r = await l.run([NODE, '-e', 'process.stdin.pipe(process.stdout)'], input);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, input);
  }
  const r = await l.run([NODE, '-e', 'process.stderr.write("no such set\\n"); process.stdout.write(String(process.ppid)); process.exit(3)']);
  assert.equal(r.status, 3);
  assert.equal(r.stderr, 'no such set\n');
  // the command's parent is the launcher, not us
  assert.equal(Number(r.stdout), l.pid);
  assert.notEqual(l.pid, process.pid);
  assert.match(readFileSync(`/proc/${l.pid}/cmdline`, 'utf8'), /pban-launcher/);
  assert.deepEqual(leftovers(), before);
});

test('commands run side by side, each answer to its own caller', async (t) => {
  const l = new Launcher();
  t.after(() => l.close());
  const runs = Array.from({ length: 20 }, (_, i) => l.run([NODE, '-e', `setTimeout(() => process.stdout.write("${i}"), ${(20 - i) * 5})`]));
  const out = await Promise.all(runs);
  assert.deepEqual(out.map((r) => r.stdout), Array.from({ length: 20 }, (_, i) => String(i)));
});

test('a program that cannot start, a timeout and an abort are reported as SpawnExecutor reports them', async (t) => {
  const l = new Launcher();
  t.after(() => l.close());
  const missing = await l.run(['/nonexistent/pban-no-such-program'], 'x'.repeat(200_000));
  assert.equal(missing.status, null);
  assert.match(missing.stderr, /ENOENT/);

  const slow = await l.run([NODE, '-e', 'setTimeout(() => {}, 30000)'], undefined, { timeoutMs: 300 });
  assert.equal(slow.status, null);
  assert.match(slow.stderr, /timed out after 300 ms/);

  const ac = new AbortController();
  const started = Date.now();
  const pending = l.run([NODE, '-e', 'setTimeout(() => {}, 30000)'], undefined, { signal: ac.signal });
  setTimeout(() => ac.abort(), 200);
  const aborted = await pending;
  assert.equal(aborted.status, null);
  assert.match(aborted.stderr, /the action is stopping/);
  assert.ok(Date.now() - started < 10_000);

  const already = await l.run([NODE, '-e', ''], undefined, { signal: AbortSignal.abort() });
  assert.match(already.stderr, /not run/);
});

test('a launcher that dies fails what it was running, with the reason; the next command forks a new one', async (t) => {
  const l = new Launcher();
  t.after(() => l.close());
  assert.equal((await l.run([NODE, '-e', ''])).status, 0);
  const first = l.pid!;
  const running = l.run([NODE, '-e', 'setTimeout(() => {}, 30000)']);
  await new Promise((r) => setTimeout(r, 200));
  process.kill(first, 'SIGKILL');
  const r = await running;
  assert.equal(r.status, null);
  assert.match(r.stderr, /launcher process was killed by SIGKILL/);
  const again = await l.run([NODE, '-e', 'process.stdout.write("ok")']);
  assert.equal(again.status, 0);
  assert.equal(again.stdout, 'ok');
  assert.notEqual(l.pid, first);
});

test('a stop signal to the process group does not end it; close() does, after what runs has answered', async () => {
  const l = new Launcher();
  l.warm();
  const pid = l.pid!;
  await l.ready(); // its signal handlers are in place
  process.kill(pid, 'SIGTERM');
  const r = await l.run([NODE, '-e', 'setTimeout(() => process.stdout.write("done"), 300)']);
  assert.equal(r.stdout, 'done', 'it survived SIGTERM and ran the command');
  const late = l.run([NODE, '-e', 'setTimeout(() => process.stdout.write("late"), 300)']);
  l.close();
  assert.equal((await late).stdout, 'late', 'a command running at close() still answers');
  assert.ok(await waitGone(pid), 'the launcher exited after close()');
  const after = await l.run([NODE, '-e', '']);
  assert.equal(after.status, null);
  assert.match(after.stderr, /pban is stopping/);
});

test('closed at once (a start refused before the launcher is up) it exits quietly: no stack on the shared stderr', async () => {
  // a separate process whose stderr the launcher shares, as the daemon's
  const mod = new URL('../../src/actions/launcher.js', import.meta.url).href;
  const script = `import { Launcher } from ${JSON.stringify(mod)}; const l = new Launcher(); l.warm(); console.log(l.pid); l.close();`;
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(NODE, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    // the launcher outlives its parent by a moment: wait for it, then read what it wrote
    assert.ok(await waitGone(Number(r.stdout.trim())), 'the launcher exited');
    assert.equal(r.stderr, '', 'nothing on stderr');
  }
});
