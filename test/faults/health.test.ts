// `pban status` is for monitoring: exit 0 only while every source, action and the store work;
// 3 (documented in docs/cli.md) while the daemon runs but does not protect as configured.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';
import type { DaemonStatus } from '../../src/control/types.js';

const running: DaemonProcess[] = [];
const dirs: string[] = [];
after(async () => {
  for (const d of running) await stopDaemon(d);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(action: string): { config: string; socket: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-fault-health-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'mail.log'), '');
  const config = path.join(dir, 'pban.toml');
  writeFileSync(config, `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[jails.postfix]
filter = "postfix"
logpath = ["mail.log"]
action = ["${action}"]
`);
  return { config, socket: path.join(dir, 'pban.sock') };
}

test('status exits 0 when everything works', async () => {
  const s = setup('dry-run');
  running.push(await startDaemon(s.config, s.socket));
  const r = cli(s.socket, ['status', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as DaemonStatus).health, { ok: true, problems: [] });
  assert.match(cli(s.socket, ['status']).stdout, /^Health: ok$/m);
});

test('status exits 3 and names the action while the firewall cannot be changed', async () => {
  const s = setup('nftables');
  // Every firewall command goes into a namespace that does not exist, so every one fails.
  running.push(await startDaemon(s.config, s.socket, ['--netns', `pban-no-such-ns-${process.pid}`]));
  const st = await waitFor('unhealthy', () => {
    const r = cli(s.socket, ['status', '--json']);
    const parsed = JSON.parse(r.stdout) as DaemonStatus;
    return parsed.health.ok ? undefined : { r, parsed };
  }, 5_000);
  assert.equal(st.r.status, 3);
  assert.match(st.parsed.health.problems.join('\n'), /^jail postfix: action nftables: /m);
  const table = cli(s.socket, ['status']);
  assert.equal(table.status, 3);
  assert.match(table.stdout, /^Health: PROBLEMS$/m);
});
