// The shipped dovecot filter: the passdb and PAM forms added to match what fail2ban's
// dovecot.conf catches, and injection attempts through the client-written user name and
// password, each of which must yield the real client or nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFilter, type CompiledFilter } from '../../src/filters/index.js';

const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);
const MODES = ['normal', 'aggressive'];
const filters = new Map<string, CompiledFilter>(MODES.map((m) => [m, loadFilter(`dovecot[mode=${m}]`, { timezone: 'UTC' })]));
const H = 'Jun  4 10:11:12 mail';
const C = '203.0.113.5';
const X = '192.0.2.66';

function ip(m: string, line: string): string | null {
  const r = (filters.get(m) as CompiledFilter).match(line, NOW);
  return r.type === 'failure' ? r.failure.ip : null;
}

const MUST_MATCH: [string, string][] = [
  ['vpopmail passdb', `${H} dovecot: auth: vpopmail(bob,${C}): unknown user`],
  ['imap passdb', `${H} dovecot: auth: imap(bob,${C},<abc>): invalid credentials`],
  ['Dovecot 2.2 capitalised result', `${H} dovecot: auth: passwd-file(bob,${C}): Unknown user`],
  ['auth_verbose_passwords=plain', `${H} dovecot: auth: sql(bob,${C},<abc>): Password mismatch (given password: hunter2)`],
  ['auth_verbose_passwords=sha1', `${H} dovecot: auth-worker(7): sql(bob,${C}): unknown user (SHA1 of given password: 0f2e1a)`],
  ['pam_unix without a service name', `${H} dovecot-auth: pam_unix: authentication failure; logname= uid=0 euid=0 tty=dovecot ruser= rhost=${C}  user=bob`],
  ['pam_unix(dovecot:auth)', `${H} auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=bob rhost=${C}  user=bob`],
];

for (const [what, line] of MUST_MATCH) {
  test(`every mode matches: ${what}`, () => {
    for (const m of MODES) assert.equal(ip(m, line), C, m);
  });
}

const NO_MODE_MATCHES: [string, string][] = [
  ['successful login', `${H} dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=${C}, lip=198.18.255.25, mpid=7, TLS, session=<abc>`],
  ['password verified', `${H} dovecot: auth: passwd-file(bob,${C},<abc>): Password verified`],
  ['another service\'s bare pam_unix line', `${H} auth: pam_unix: authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${C}  user=bob`],
  // A password with parentheses: its end anchor can no longer be trusted (filters/dovecot.toml).
  ['a password with parentheses', `${H} dovecot: auth: sql(bob,${C}): Password mismatch (given password: pa(ss)`],
];

for (const [what, line] of NO_MODE_MATCHES) {
  test(`no mode matches: ${what}`, () => {
    for (const m of MODES) assert.equal(ip(m, line), null, m);
  });
}

const INJECTIONS: [string, string, string | null][] = [
  ['user name fakes a passdb result', `${H} dovecot: auth: sql(x,${X},<a>): unknown user,${C},<s>): unknown user`, C],
  ['user name holds the decoy, bare', `${H} dovecot: auth: sql(${X},${C}): Password mismatch`, C],
  ['user name and password frame the real address', `${H} dovecot: auth: sql(x,${X}): unknown user (given password: a,${C}): Password mismatch (given password: b)`, C],
  ['password closes a fake suffix', `${H} dovecot: auth: sql(x,${X}): unknown user (given password: a,${C}): Password mismatch (given password: b) (Password mismatch?))`, null],
  ['password holds an address', `${H} dovecot: auth: sql(bob,${C}): Password mismatch (given password: ,${X})`, C],
  ['pam_unix ruser holds an rhost', `${H} auth: pam_unix(dovecot:auth): authentication failure; logname= uid=0 euid=0 tty=dovecot ruser=rhost=${X} rhost=${C}`, C],
];

for (const [what, line, want] of INJECTIONS) {
  test(`injection: ${what} → ${want ?? 'nothing'}`, () => {
    for (const m of MODES) {
      const got = ip(m, line);
      if (want === null) assert.equal(got, null, m);
      else assert.equal(got, want, m);
    }
  });
}
