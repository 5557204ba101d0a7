// `pban import fail2ban DIR` on Debian 12's fail2ban configuration (unpacked by
// scripts/setup-test-env.sh, never installed) with a realistic jail.local: the output is a
// pban config that `pban check` accepts, with the jails, filters, ports, times and actions
// carried over, and what cannot be carried over said on stderr and in comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'smol-toml';
import { convertDuration } from '../../src/import/fail2ban.js';
import { runPban } from '../helpers/run-cli.js';

const CACHE = process.env.PBAN_FAIL2BAN_CACHE ?? path.join(os.tmpdir(), 'pban-fail2ban-samples');
const ETC = path.join(CACHE, 'root/etc/fail2ban');

const JAIL_LOCAL = `
[DEFAULT]
ignoreip = 127.0.0.1/8 ::1 192.0.2.0/24 trusted.example.org
bantime  = 1h
findtime = 600
banaction = nftables-multiport
bantime.increment = true
bantime.factor = 2
bantime.maxtime = 1w

[sshd]
enabled = true
mode = aggressive

[postfix]
enabled = true
mode = aggressive

[postfix-sasl]
enabled = true
maxretry = 3
banaction = iptables-ipset-proto6

[dovecot]
enabled = true
action = %(action_mw)s

[recidive]
enabled = true
`;

test('fail2ban durations become pban durations', () => {
  assert.equal(convertDuration('600'), '600s');
  assert.equal(convertDuration('10m'), '10m');
  assert.equal(convertDuration('1h 30m'), '1h30m');
  assert.equal(convertDuration('2 days'), '2d');
  assert.equal(convertDuration('-1'), '-1');
  assert.equal(convertDuration('3600*24'), null);
});

test('pban import fail2ban: a realistic jail.local becomes a config pban check accepts', () => {
  assert.ok(existsSync(path.join(ETC, 'jail.conf')), `no fail2ban configuration at ${ETC}: run scripts/setup-test-env.sh`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-import-'));
  const etc = path.join(dir, 'fail2ban');
  cpSync(ETC, etc, { recursive: true });
  writeFileSync(path.join(etc, 'jail.local'), JAIL_LOCAL);
  const r = runPban(['import', 'fail2ban', etc]);
  assert.equal(r.status, 0, r.stderr);
  const cfg = parse(r.stdout) as { pban: Record<string, unknown>; jails: Record<string, Record<string, unknown>> };
  assert.deepEqual(Object.keys(cfg.jails).sort(), ['dovecot', 'postfix', 'postfix-sasl', 'recidive', 'sshd']);
  assert.equal(cfg.pban.fail2ban_filter_dir, path.join(etc, 'filter.d'));
  const { sshd, postfix, dovecot } = cfg.jails;
  const sasl = cfg.jails['postfix-sasl'];
  assert.equal(sshd?.filter, 'fail2ban:sshd[mode=aggressive]');
  assert.equal(postfix?.filter, 'postfix[mode=aggressive]');
  assert.equal(sasl?.filter, 'postfix[mode=auth]');
  assert.equal(dovecot?.filter, 'dovecot[mode=normal]');
  assert.deepEqual(sshd?.ports, ['ssh']);
  assert.deepEqual(postfix?.ports, ['smtp', '465', 'submission']);
  assert.equal(sasl?.maxretry, 3);
  assert.equal(sshd?.findtime, '600s');
  assert.equal(sshd?.bantime, '1h');
  assert.deepEqual({ ...(sshd?.bantime_increment as object) }, { enabled: true, factor: 2, maxtime: '1w' });
  assert.deepEqual(sshd?.ignoreip, ['127.0.0.1/8', '::1', '192.0.2.0/24']);
  assert.deepEqual(sshd?.action, ['nftables']);
  assert.deepEqual(sasl?.action, ['ipset']);
  assert.deepEqual(dovecot?.action, ['nftables']);
  assert.deepEqual(sshd?.logpath, ['/var/log/auth.log']);
  // Said on stderr, and as comments in the output.
  assert.match(r.stderr, /jail dovecot: action sendmail-whois/);
  // fail2ban's recidive (Debian: findtime 1d, bantime 1w, banaction_allports) counts pban's own bans.
  const rec = cfg.jails['recidive'];
  assert.equal(rec?.source, 'bans');
  assert.deepEqual([rec?.filter, rec?.logpath, rec?.ports], [undefined, undefined, undefined], 'no filter, no log; every port');
  assert.deepEqual([rec?.findtime, rec?.bantime], ['1d', '1w']);
  assert.deepEqual(rec?.action, ['iptables']);
  assert.doesNotMatch(r.stderr, /jail recidive: (?!ignoreip)/, 'nothing of it is lost but the host name in ignoreip');
  assert.match(r.stderr, /ignoreip entry trusted\.example\.org/);
  assert.match(r.stdout, /# not carried over: action sendmail-whois/);

  const out = path.join(dir, 'pban.toml');
  writeFileSync(out, r.stdout);
  const c = runPban(['check', '-c', out]);
  assert.equal(c.status, 0, c.stderr + c.stdout);
  assert.match(c.stdout, /OK, 5 enabled jail\(s\)/);
});
