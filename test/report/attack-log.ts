// A small crafted attack log and its config, with every figure of its report known by hand.
// Shared by the CLI test and the headless Chromium test. It holds hostile text on purpose: a
// client name that is HTML, and a user name with a terminal escape.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const HOSTILE_NAME = `<script>alert("x")&'</script>`;
export const HOSTILE_USER = 'evil\x1b[31mred';

const T = (hms: string): string => `2026-11-27T${hms}+00:00 mail`;
const sasl = (hms: string, ip: string, user: string): string =>
  `${T(hms)} postfix/submission/smtpd[811]: warning: unknown[${ip}]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=${user}`;

export const ATTACK_LINES = [
  `${T('10:00:00')} postfix/smtpd[700]: connect from unknown[198.51.100.10]`,
  `${T('10:00:01')} postfix/smtpd[701]: connect from good.example[203.0.113.5]`,
  `${T('10:00:02')} postfix/smtpd[702]: connect from unknown[198.51.100.10]`,
  sasl('10:00:05', '198.51.100.10', 'admin'),
  sasl('10:00:06', '198.51.100.10', 'admin'),
  sasl('10:00:07', '198.51.100.10', 'root'), // third: address ban
  `${T('10:01:00')} postfix/smtpd[703]: NOQUEUE: reject: RCPT from ${HOSTILE_NAME}[198.51.100.11]: 554 5.7.1 <x@example.org>: Relay access denied; from=<a@example.net> to=<x@example.org> proto=ESMTP helo=<h>`,
  sasl('10:02:00', '198.51.100.12', HOSTILE_USER), // 5 failures from 3 addresses in the /24: network ban
  sasl('10:02:30', '192.0.2.1', 'admin'),
  sasl('10:02:40', '192.0.2.1', 'admin'),
  sasl('10:02:50', '192.0.2.2', 'admin'),
  sasl('10:03:00', '198.51.100.10', 'admin'), // while banned
  `${T('10:03:30')} postfix/qmgr[9]: 4AB12: removed`,
  sasl('10:04:00', '2001:db8::1', 'admin'),
];

export const ATTACK_CONFIG = `[pban]
database = "pban.sqlite"
socket = "pban.sock"
timezone = "UTC"
[defaults]
findtime = "10m"
maxretry = 3
bantime = "10m"
ignoreip = ["127.0.0.0/8"]
ignoreself = false   # the test machine may own a documentation address
action = ["dry-run"]
[defaults.subnet]
enabled = true
ipv4_prefix = 24
ipv6_prefix = 64
maxretry = 4
min_addresses = 3
bantime = "1h"
[jails.postfix]
filter = "postfix"
logpath = ["/var/log/mail.log"]
`;

/** Writes pban.toml and mail.log into `dir`; returns their paths. */
export function writeAttack(dir: string): { config: string; log: string } {
  const config = path.join(dir, 'pban.toml');
  const log = path.join(dir, 'mail.log');
  writeFileSync(config, ATTACK_CONFIG);
  writeFileSync(log, ATTACK_LINES.join('\n') + '\n');
  return { config, log };
}
