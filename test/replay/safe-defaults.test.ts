// The shipped example config on a busy inbound MX: `pban replay -c jail.example.toml` bans
// nothing in a day of legitimate traffic from big senders, and bans every attacker (single
// addresses, a /24 and a /64) in a log of attacks. Both logs come from the committed generator
// test/helpers/mx-traffic.ts, run through its command line as the README says.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

function replayJson(log: string, config = EXAMPLE): { event: string; target: string }[] {
  const r = runPban(['replay', '-c', config, '--json', log]);
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
    // Safe without the allow list too: the kinds counted, not the names, keep big senders in.
    const noAllow = path.join(dir, 'no-allow.toml');
    const example = readFileSync(EXAMPLE, 'utf8');
    const stripped = example.replace(/^allow_names = \[[^\]]*\]\n/m, '');
    assert.notEqual(stripped, example);
    writeFileSync(noAllow, stripped);
    assert.deepEqual(replayJson(log, noAllow), []);
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

test('allow_names in the example: a verified big sender is never counted; unknown and look-alike names are', () => {
  const t0 = Date.parse('2026-11-20T10:00:00Z');
  const lines: string[] = [];
  const probe = (host: string, i: number) =>
    `${new Date(t0 + i * 5000).toISOString()} mx postfix/smtpd[${100 + i}]: NOQUEUE: reject: RCPT from ${host}: 550 5.1.1 <u${i}@example.org>: Recipient address rejected: User unknown in virtual mailbox table; from=<a@b.example> to=<u${i}@example.org> proto=ESMTP helo=<h>`;
  for (let i = 0; i < 12; i++) {
    lines.push(probe('mail-db8eur05on2105.outbound.protection.outlook.com[198.18.6.105]', i));
    lines.push(probe('mail-yw1-f171.GOOGLE.com[198.18.9.171]', i));
    lines.push(probe('unknown[203.0.113.9]', i));
    lines.push(probe('outbound.protection.outlook.com.evil.example[203.0.113.7]', i));
    lines.push(probe('google.com[192.0.2.55]', i));
    // Postfix never logs such a name; if a line holds one, it matches nothing and allows nobody.
    lines.push(probe('unknown[203.0.113.8].outbound.protection.outlook.com[198.18.6.106]', i));
  }
  const log = path.join(dir, 'allow.log');
  writeFileSync(log, `${lines.join('\n')}\n`);
  const banned = replayJson(log).filter((e) => e.event === 'ban').map((e) => e.target).sort();
  assert.deepEqual(banned, ['192.0.2.55/32', '203.0.113.7/32', '203.0.113.9/32']);
});
