// The CLI's own side of the commands that talk to the daemon: help, and what it does before it
// connects. Every reply, its rendering and exit code come from the real daemon in
// test/control/contract.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPbanAsync } from './run-pban-async.js';

test('--help of each command shows examples and the socket options', async () => {
  for (const cmd of ['status', 'banned', 'ban', 'unban', 'reload', 'stop', 'version']) {
    const r = await runPbanAsync([cmd, '--help']);
    assert.equal(r.status, 0, cmd);
    assert.match(r.stdout, new RegExp(`Examples:\\n  \\$ pban ${cmd}`));
    assert.match(r.stdout, /--socket <path>/);
    assert.match(r.stdout, /-c, --config <file>/);
  }
});

test('a config given with -c must exist; one that does not names the file, exit 1', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-cli-'));
  try {
    const missing = await runPbanAsync(['status', '-c', path.join(dir, 'nope.toml')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^pban: .*nope\.toml: cannot read config: no such file/);
    // The socket named in the config (relative: next to the config), and nobody listening there.
    fs.writeFileSync(path.join(dir, 'pban.toml'), '[pban]\nsocket = "run/ctl.sock"\n');
    const down = await runPbanAsync(['status', '-c', path.join(dir, 'pban.toml')]);
    assert.deepEqual([down.status, down.stderr], [1, `pban: pban is not running (no socket at ${path.join(dir, 'run', 'ctl.sock')})\n`]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
