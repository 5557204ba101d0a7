// The shipped example config on a busy inbound MX: `pban replay -c jail.example.toml` bans
// nothing in a day of legitimate traffic from big senders, and bans every attacker (single
// addresses, a /24 and a /64) in a log of attacks. Both logs come from the committed generator
// test/helpers/mx-traffic.ts, run through its command line as the README says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, runPban } from '../helpers/run-cli.js';
import { ATTACK_TARGETS } from '../helpers/mx-traffic.js';

const GENERATOR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../helpers/mx-traffic.js');
const EXAMPLE = path.join(REPO_ROOT, 'jail.example.toml');
let dir: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pban-safe-defaults-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function generate(kind: 'busy' | 'attacks', seed: number): string {
  const out = path.join(dir, `${kind}-${seed}.log`);
  const r = spawnSync(process.execPath, [GENERATOR, kind, '--seed', String(seed), '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

function replayJson(log: string): { event: string; target: string }[] {
  const r = runPban(['replay', '-c', EXAMPLE, '--json', log]);
  assert.equal(r.status, 0, r.stderr);
  const out = r.stdout.trim();
  return out === '' ? [] : out.split('\n').map((l) => JSON.parse(l) as { event: string; target: string });
}

for (const seed of [1, 2]) {
  test(`a day of busy-MX traffic bans nothing (seed ${seed})`, () => {
    const log = generate('busy', seed);
    const text = readFileSync(log, 'utf8');
    // The log holds what big senders do: lost connections, TLS failures, greylisting, DNS trouble.
    const count = (s: string) => text.split(s).length - 1;
    assert.ok(count('\n') > 20_000, 'a day of traffic');
    assert.ok(count('.outbound.protection.outlook.com[198.18.6.') > 1000);
    assert.ok(count('lost connection after STARTTLS from mail-db8eur05on2') >= 8 * 20, 'five Outlook hosts, four times each, every three hours');
    assert.ok(count('SSL_accept error') > 0 && count('Greylisted') > 0 && count('Domain not found') > 0 && count('blocked using') > 0);
    assert.ok(count('User unknown') > 0 && count('SASL PLAIN authentication failed') > 0);
    assert.deepEqual(replayJson(log), []);
    // The filter did see failures: nothing was banned because none added up, not because none matched.
    const table = runPban(['replay', '-c', EXAMPLE, log]);
    const matched = /jail postfix \(postfix\[mode=inbound\]\): (\d+) failures matched, 0 bans/.exec(table.stdout);
    assert.ok(matched && Number(matched[1]) > 100, table.stdout);
  });

  test(`brute force, dictionary and relay probes are banned, alone and spread over a /24 and a /64 (seed ${seed})`, () => {
    const events = replayJson(generate('attacks', seed));
    const banned = events.filter((e) => e.event === 'ban').map((e) => e.target);
    assert.deepEqual([...banned].sort(), [...ATTACK_TARGETS].sort());
  });
}
