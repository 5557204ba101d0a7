import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSocketFromConfig, resolveSocketPath } from '../../src/cli/socket-path.js';
import { ConfigError } from '../../src/errors.js';
import { loadConfig } from '../../src/config/index.js';

async function withConfig(text: string, fn: (file: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-cli-'));
  try {
    const file = path.join(dir, 'pban.toml');
    fs.writeFileSync(file, text);
    await fn(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the socket path: --socket, then [pban] socket, then the default', async () => {
  await withConfig('[pban]\nsocket = "/run/other/ctl.sock"\n\n[jails.postfix]\nfilter = "postfix"\n', async (file) => {
    assert.equal(await resolveSocketPath({ config: file, socket: '/tmp/x.sock' }), '/tmp/x.sock');
    assert.equal(await resolveSocketPath({ config: file }), '/run/other/ctl.sock');
  });
  await withConfig('[jails.postfix]\nfilter = "postfix"\n', async (file) => {
    assert.equal(await resolveSocketPath({ config: file }), '/run/pban/pban.sock');
  });
  assert.equal(await resolveSocketPath({ config: '/nonexistent/pban.toml' }), '/run/pban/pban.sock');
});

test('a config given with -c must exist', async () => {
  await assert.rejects(resolveSocketPath({ config: '/nonexistent/pban.toml', configGiven: true }), (e: ConfigError) => {
    assert.match(e.message, /^\/nonexistent\/pban\.toml: cannot read config: no such file$/);
    return true;
  });
});

test('a broken config names the file and line', async () => {
  await withConfig('[pban]\nsocket = \n', async (file) => {
    await assert.rejects(readSocketFromConfig(file, false), (e: ConfigError) => {
      assert.equal(e.file, file);
      assert.equal(e.line, 2);
      return true;
    });
  });
  await withConfig('[pban]\n\nsocket = 42\n', async (file) => {
    await assert.rejects(readSocketFromConfig(file, false), { message: `${file}:3: pban.socket: expected a path string` });
  });
});

test('a relative [pban] socket names the same file for the CLI and the daemon, wherever each runs', async () => {
  await withConfig('[pban]\nsocket = "run/ctl.sock"\n\n[jails.postfix]\nfilter = "postfix"\nlogpath = ["mail.log"]\n', async (file) => {
    const expected = path.join(path.dirname(file), 'run', 'ctl.sock');
    const cwd = process.cwd();
    try {
      process.chdir(os.tmpdir());
      assert.equal(loadConfig(file).pban.socket, expected);
      assert.equal(await resolveSocketPath({ config: file, configGiven: true }), expected);
      // the same config named by a relative path, from its own directory
      process.chdir(path.dirname(file));
      assert.equal(loadConfig('pban.toml').pban.socket, expected);
      assert.equal(await resolveSocketPath({ config: 'pban.toml', configGiven: true }), expected);
      // --socket is relative to where the command runs
      assert.equal(await resolveSocketPath({ config: 'pban.toml', socket: 'x.sock' }), path.join(path.dirname(file), 'x.sock'));
    } finally {
      process.chdir(cwd);
    }
  });
});
