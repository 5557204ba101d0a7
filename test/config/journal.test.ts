// journalmatch and journal_directory: what a jail reads from the systemd journal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfigText, type LoadOptions, type PbanConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';

const FILE = '/etc/pban/pban.toml';
const accept: LoadOptions = { checkFilter: () => undefined, checkAction: () => undefined };
const lines = (...l: string[]): string => l.join('\n') + '\n';
const load = (text: string): PbanConfig => parseConfigText(text, FILE, accept);
const JAIL = ['[jails.postfix]', 'filter = "postfix"'];

function expectError(text: string, message: string): void {
  assert.throws(() => load(text), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

test('a jail on the journal only: matches in order, no logpath', () => {
  const cfg = load(lines(...JAIL, 'journalmatch = ["_SYSTEMD_UNIT=postfix@-.service", "+", "SYSLOG_IDENTIFIER=postfix/smtpd"]'));
  const j = cfg.jails[0]!;
  assert.deepEqual(j.logpath, []);
  assert.deepEqual(j.journal, { matches: ['_SYSTEMD_UNIT=postfix@-.service', '+', 'SYSLOG_IDENTIFIER=postfix/smtpd'], directory: undefined });
});

test("fail2ban's one-string form is split at blanks; a file jail has journal null", () => {
  const cfg = load(lines(...JAIL, 'journalmatch = "_SYSTEMD_UNIT=postfix@-.service + _SYSTEMD_UNIT=postfix.service"', '[jails.files]', 'filter = "postfix"', 'logpath = "/var/log/mail.log"'));
  assert.deepEqual(cfg.jails[0]!.journal?.matches, ['_SYSTEMD_UNIT=postfix@-.service', '+', '_SYSTEMD_UNIT=postfix.service']);
  assert.equal(cfg.jails[1]!.journal, null);
});

test('logpath and journalmatch together; journal_directory is resolved against the config directory', () => {
  const cfg = parseConfigText(lines(...JAIL, 'logpath = "/var/log/mail.log"', 'journalmatch = ["_SYSTEMD_UNIT=postfix@-.service"]', 'journal_directory = "journal"'), '/srv/pban/pban.toml', accept);
  assert.deepEqual(cfg.jails[0]!.logpath, ['/var/log/mail.log']);
  assert.deepEqual(cfg.jails[0]!.journal, { matches: ['_SYSTEMD_UNIT=postfix@-.service'], directory: '/srv/pban/journal' });
});

test('bad matches are one-line errors naming the line', () => {
  expectError(lines(...JAIL, 'journalmatch = [', '  "_SYSTEMD_UNIT=postfix@-.service",', '  "unit=postfix",', ']'),
    `${FILE}:5: jails.postfix.journalmatch[1]: invalid journal match "unit=postfix" (expected FIELD=value with FIELD in capitals, e.g. "_SYSTEMD_UNIT=postfix@-.service", or "+" for OR)`);
  expectError(lines(...JAIL, 'journalmatch = ["+", "_SYSTEMD_UNIT=postfix@-.service"]'), `${FILE}:3: jails.postfix.journalmatch[0]: "+" (OR) must stand between two matches`);
  expectError(lines(...JAIL, 'journalmatch = "_SYSTEMD_UNIT=a +"'), `${FILE}:3: jails.postfix.journalmatch: "+" (OR) must stand between two matches`);
  expectError(lines(...JAIL, 'journalmatch = []'), `${FILE}:3: jails.postfix.journalmatch: must list at least one match (e.g. "_SYSTEMD_UNIT=postfix@-.service")`);
  expectError(lines(...JAIL, 'journalmatch = ["--since=today"]'), `${FILE}:3: jails.postfix.journalmatch[0]: invalid journal match "--since=today" (expected FIELD=value with FIELD in capitals, e.g. "_SYSTEMD_UNIT=postfix@-.service", or "+" for OR)`);
  expectError(lines(...JAIL, 'journalmatch = [7]'), `${FILE}:3: jails.postfix.journalmatch[0]: expected strings, got the integer 7`);
  expectError(lines(...JAIL, 'logpath = "/l"', 'journal_directory = "/var/log/journal"'), `${FILE}:4: jails.postfix.journal_directory: only applies with journalmatch (the journal is read only for jails that set it)`);
  expectError(lines(...JAIL, 'journalmatchs = ["A=b"]'), `${FILE}:3: jails.postfix: unknown key "journalmatchs" (did you mean "journalmatch"?)`);
});

test('the example config loads, and its commented journald alternative loads when uncommented', async () => {
  const { readFileSync } = await import('node:fs');
  const { PACKAGE_ROOT } = await import('../../src/paths.js');
  const path = (await import('node:path')).default;
  const text = readFileSync(path.join(PACKAGE_ROOT, 'jail.example.toml'), 'utf8');
  assert.deepEqual(load(text).jails.find((j) => j.name === 'postfix')?.logpath, ['/var/log/mail.log']);
  const block = text.split('\n').filter((l) => l.startsWith('#J '));
  assert.ok(block.length > 0, 'the example shows a journald jail (lines starting "#J ")');
  const cfg = load(text + block.map((l) => l.slice(3)).join('\n') + '\n');
  const j = cfg.jails.find((x) => x.journal !== null);
  assert.deepEqual(j?.journal?.matches, ['_SYSTEMD_UNIT=postfix@-.service']);
  assert.deepEqual(j?.logpath, []);
});
