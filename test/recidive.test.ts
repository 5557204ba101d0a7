// The decisions of recidive.ts and retired-jails.ts, and recidive through `replay` (the same
// counting as the daemon, offline and exact).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { banAsFailure, countsAsRecidive } from '../src/recidive.js';
import { keptWhenJailRemoved, parseJailFirewall, firewallOf } from '../src/retired-jails.js';
import { parseConfigText } from '../src/config/index.js';
import { replay } from '../src/replay.js';
import type { Ban } from '../src/events.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-recidive-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ban = (kind: Ban['kind'], until: number | null): Ban => ({
  target: { addr: '192.0.2.7' as Ban['target']['addr'], prefix: 32, family: 4 },
  jail: 'smtp', kind, created: 1000, until, failures: 3, banNumber: 1,
});

test('recidive counts automatic address bans of log jails only', () => {
  assert.equal(countsAsRecidive(ban('address', 2000), false), true);
  assert.equal(countsAsRecidive(ban('address', 2000), true), false, 'a recidive ban never feeds recidive');
  assert.equal(countsAsRecidive(ban('manual', 2000), false), false, 'the admin already decided');
  assert.equal(countsAsRecidive(ban('network', 2000), false), false, 'recidive is per address');
  assert.deepEqual(banAsFailure(ban('address', 2000)), { time: 1000, ip: '192.0.2.7', family: 4, filter: 'bans', kind: 'ban:smtp', network: false, fields: {} });
});

test('a removed jail keeps manual and permanent bans, lifts automatic ones with an end', () => {
  assert.equal(keptWhenJailRemoved(ban('manual', 2000)), true);
  assert.equal(keptWhenJailRemoved(ban('manual', null)), true);
  assert.equal(keptWhenJailRemoved(ban('address', null)), true, 'permanent');
  assert.equal(keptWhenJailRemoved(ban('network', null)), true, 'permanent');
  assert.equal(keptWhenJailRemoved(ban('address', 2000)), false);
  assert.equal(keptWhenJailRemoved(ban('network', 2000)), false);
});

test('a stored firewall round-trips; anything else is no firewall', () => {
  const fw = firewallOf({ actions: ['nftables[blocktype=reject]'], ports: ['25', '587'], protocol: 'tcp' });
  assert.deepEqual(parseJailFirewall(JSON.stringify(fw)), fw);
  assert.deepEqual(parseJailFirewall(JSON.stringify(firewallOf({ actions: ['dry-run'], ports: 'all', protocol: 'udp' }))), { actions: ['dry-run'], ports: 'all', protocol: 'udp' });
  for (const bad of [null, '', '{', '[]', '{"actions":[],"ports":"all","protocol":"tcp"}', '{"actions":["x"],"ports":"some","protocol":"tcp"}', '{"actions":["x"],"ports":"all","protocol":"sctp"}']) {
    assert.equal(parseJailFirewall(bad), null, String(bad));
  }
});

test('replay: three bans of one address across two jails give one recidive ban; its own ban does not count', () => {
  const config = path.join(dir, 'pban.toml');
  writeFileSync(
    config,
    `[pban]
timezone = "UTC"
[defaults]
maxretry = 2
bantime = "1m"
action = ["dry-run"]
[jails.smtp]
filter = "postfix[mode=auth]"
logpath = ["a.log"]
[jails.submission]
filter = "postfix[mode=auth]"
logpath = ["a.log"]
[jails.recidive]
source = "bans"
maxretry = 3
findtime = "1d"
bantime = "1w"
`,
  );
  const sasl = (ts: string, ip: string): string =>
    `${ts} mail postfix/submission/smtpd[811]: warning: unknown[${ip}]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=a`;
  const log = path.join(dir, 'a.log');
  // Two failures: banned by both jails (2 bans); two more after the bans ended: 2 more bans.
  writeFileSync(log, [
    sasl('2026-11-07T10:00:00Z', '203.0.113.5'),
    sasl('2026-11-07T10:00:01Z', '203.0.113.5'),
    sasl('2026-11-07T10:05:00Z', '203.0.113.5'),
    sasl('2026-11-07T10:05:01Z', '203.0.113.5'),
    sasl('2026-11-07T10:10:00Z', '198.51.100.1'),
  ].join('\n') + '\n');
  const cfg = parseConfigText(readFileSync(config, 'utf8'), config);
  const r = replay(cfg, [log], { now: Date.parse('2026-11-08T00:00:00Z') });
  const bans = r.events.filter((e) => e.event === 'ban').map((e) => `${e.jail} ${e.target} ${e.time - Date.parse('2026-11-07T10:00:00Z')}`);
  assert.deepEqual(bans, [
    'smtp 203.0.113.5/32 1000',
    'submission 203.0.113.5/32 1000',
    'smtp 203.0.113.5/32 301000',
    'recidive 203.0.113.5/32 301000',
    'submission 203.0.113.5/32 301000',
  ]);
  const rec = r.events.find((e) => e.event === 'ban' && e.jail === 'recidive');
  assert.equal(rec!.until! - rec!.time, 7 * 86_400_000);
});
