// A reload must not open the firewall: with unchanged actions the nftables table stays as it is
// (same handles, same elements); with changed ports it is rebuilt and every ban re-applied.
// Real nft, inside a network namespace this test creates.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../helpers/netns.js';
import { cli, startDaemon, stopDaemon, waitFor, type DaemonProcess } from '../helpers/daemon-process.js';

const NS = `pbanrl-${process.pid}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-reload-fw-'));
let daemon: DaemonProcess | undefined;

after(async () => {
  if (daemon) await stopDaemon(daemon);
  run(['ip', 'netns', 'del', NS]); // already gone is fine
  rmSync(dir, { recursive: true, force: true });
});

const nft = (...args: string[]): string => execFileSync('ip', ['netns', 'exec', NS, 'nft', ...args], { encoding: 'utf8' });
/** The table with handles (any re-creation changes them), without the ticking "expires" countdown. */
const table = (): string => nft('-a', 'list', 'table', 'inet', 'pban-postfix').replace(/ expires [0-9hms]+/g, '');

test('reload keeps the firewall as it is; changed ports rebuild it with every ban', async () => {
  execFileSync('ip', ['netns', 'add', NS]); // fails loudly if namespaces are not available
  const config = path.join(dir, 'pban.toml');
  const socket = path.join(dir, 'pban.sock');
  writeFileSync(path.join(dir, 'mail.log'), '');
  const text = (ports: string): string => `[pban]
database = "pban.sqlite"
socket = "pban.sock"
[defaults]
action = ["nftables"]
ports = ${ports}
[jails.postfix]
filter = "postfix"
logpath = ["mail.log"]
`;
  writeFileSync(config, text('["25", "587"]'));
  daemon = await startDaemon(config, socket, [], ['ip', 'netns', 'exec', NS]);
  const b = cli(socket, ['ban', 'postfix', '198.51.100.7']);
  assert.equal(b.status, 0, b.stderr);
  await waitFor('the element in the kernel', () => table().includes('198.51.100.7'));
  const before = table();

  const r = cli(socket, ['reload']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(table(), before, 'unchanged actions: the table was not touched');

  writeFileSync(config, readFileSync(config, 'utf8').replace('ports = ["25", "587"]', 'ports = ["25", "465", "587"]'));
  const r2 = cli(socket, ['reload']);
  assert.equal(r2.status, 0, r2.stderr);
  const rebuilt = await waitFor('the rebuilt table', () => {
    const t = table();
    return t.includes('465') && t;
  });
  assert.notEqual(rebuilt, before);
  assert.match(rebuilt, /198\.51\.100\.7/, 'the ban was re-applied');
  assert.equal(await stopDaemon(daemon), 0);
  daemon = undefined;
  assert.doesNotMatch(nft('list', 'ruleset'), /pban-postfix/, 'stop removes our table');
});

test('a reload that changes only check_interval reaches the kept runners: a flushed set is refilled at the new interval', async () => {
  // Own namespace and directory: the test above may have left its daemon's table behind on failure.
  const ns = `${NS}b`;
  const d2 = mkdtempSync(path.join(dir, 'interval-'));
  execFileSync('ip', ['netns', 'add', ns]);
  const inNs = (...args: string[]): string => execFileSync('ip', ['netns', 'exec', ns, 'nft', ...args], { encoding: 'utf8' });
  const host4 = (): string => inNs('list', 'set', 'inet', 'pban-postfix', 'host4');
  let d: DaemonProcess | undefined;
  try {
    const config = path.join(d2, 'pban.toml');
    const socket = path.join(d2, 'pban.sock');
    writeFileSync(path.join(d2, 'mail.log'), '');
    const text = (interval: string): string => `[pban]
database = "pban.sqlite"
socket = "pban.sock"
check_interval = "${interval}"
[defaults]
action = ["nftables"]
[jails.postfix]
filter = "postfix"
logpath = ["mail.log"]
`;
    // An hour: without the reload reaching the runner, no check would run during this test.
    writeFileSync(config, text('1h'));
    d = await startDaemon(config, socket, [], ['ip', 'netns', 'exec', ns]);
    const b = cli(socket, ['ban', 'postfix', '198.51.100.17']);
    assert.equal(b.status, 0, b.stderr);
    await waitFor('the element in the kernel', () => host4().includes('198.51.100.17'));
    const handles = inNs('-a', 'list', 'chain', 'inet', 'pban-postfix', 'input4');

    writeFileSync(config, text('1s'));
    const r = cli(socket, ['reload']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(inNs('-a', 'list', 'chain', 'inet', 'pban-postfix', 'input4'), handles, 'only the interval changed: the runner was kept, its chain untouched');

    inNs('flush', 'set', 'inet', 'pban-postfix', 'host4');
    assert.doesNotMatch(host4(), /198\.51\.100\.17/);
    await waitFor('the ban back in the kernel (the 1s check)', () => host4().includes('198.51.100.17'), 5000);
    // The log record may reach stderr a moment after the repair itself (pino writes asynchronously).
    const dd = d;
    await waitFor('the repair logged', () => /"event":"action.missing".*1 ban\(s\) missing from the kernel/.test(dd.output()), 5000);
    assert.equal(await stopDaemon(d), 0);
    d = undefined;
  } finally {
    if (d) await stopDaemon(d);
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});
