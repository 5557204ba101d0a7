import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig, parseConfigText, type LoadOptions, type PbanConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { MAX_CONFIG_FILE_BYTES } from '../../src/files.js';
import { machineAddresses } from '../../src/config/load.js';
import type { Target } from '../../src/events.js';

const FILE = '/etc/pban/pban.toml';
const H = 3_600_000;
const M = 60_000;
const SELF = [{ addr: '198.51.100.200', prefix: 32, family: 4 }] as const;
const accept: LoadOptions = { checkFilter: () => undefined, checkAction: () => undefined, selfAddresses: () => SELF as unknown as Target[] };

/** Joins lines, so each test reads with its line numbers in view. */
const lines = (...l: string[]): string => l.join('\n') + '\n';
const load = (text: string, opts: LoadOptions = accept): PbanConfig => parseConfigText(text, FILE, opts);
const MINIMAL_JAIL = ['[jails.postfix]', 'filter = "postfix"', 'logpath = "/var/log/mail.log"'];

function expectError(text: string, message: string, opts: LoadOptions = accept): ConfigError {
  try {
    load(text, opts);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.message, message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err;
  }
  assert.fail(`expected the error: ${message}`);
}

// --- Every error class, with its exact file:line --------------------------------------------

const errorCases: { name: string; text: string; message: string; opts?: LoadOptions }[] = [
  {
    name: 'unknown key in a jail, with a suggestion',
    text: lines(...MINIMAL_JAIL, 'maxretries = 3'),
    message: `${FILE}:4: jails.postfix: unknown key "maxretries" (did you mean "maxretry"?)`,
  },
  {
    name: 'unknown key in [defaults.subnet]',
    text: lines('[defaults.subnet]', 'enabled = true', 'min_adresses = 2', ...MINIMAL_JAIL),
    message: `${FILE}:3: defaults.subnet: unknown key "min_adresses" (did you mean "min_addresses"?)`,
  },
  {
    name: 'unknown key without a near match lists the allowed ones',
    text: lines('[pban]', 'colour = "blue"', ...MINIMAL_JAIL),
    message: `${FILE}:2: pban: unknown key "colour" (expected one of: database, socket, loglevel, logformat, timezone, metrics, check_interval, fail2ban_filter_dir)`,
  },
  {
    name: 'unknown log format',
    text: lines('[pban]', 'logformat = "pretty"', ...MINIMAL_JAIL),
    message: `${FILE}:2: pban.logformat: unknown format "pretty" (expected one of: json, text)`,
  },
  {
    name: 'metrics on a host name',
    text: lines('[pban]', 'socket = "/run/x.sock"', 'metrics = "localhost:9464"', ...MINIMAL_JAIL),
    message: `${FILE}:3: pban.metrics: invalid listen address "localhost:9464": host names are not accepted, write an address or CIDR network`,
  },
  {
    name: 'metrics without a port',
    text: lines('[pban]', 'metrics = "127.0.0.1"', ...MINIMAL_JAIL),
    message: `${FILE}:2: pban.metrics: invalid listen address "127.0.0.1": expected ADDRESS:PORT like "127.0.0.1:9464" or "[::1]:9464"`,
  },
  {
    name: 'metrics on a port out of range',
    text: lines('[pban]', 'metrics = "127.0.0.1:99999"', ...MINIMAL_JAIL),
    message: `${FILE}:2: pban.metrics: invalid listen address "127.0.0.1:99999": port must be a number 1-65535, got "99999"`,
  },
  {
    name: 'metrics as a number',
    text: lines('[pban]', 'metrics = 9464', ...MINIMAL_JAIL),
    message: `${FILE}:2: pban.metrics: expected a string, got the integer 9464`,
  },
  {
    name: 'unknown top-level table',
    text: lines(...MINIMAL_JAIL, '[jail.dovecot]', 'filter = "dovecot"'),
    message: `${FILE}:4: top level: unknown key "jail" (did you mean "jails"?)`,
  },
  {
    name: 'unknown key inside an inline table',
    text: lines('[defaults]', 'subnet = { enabled = true, size = 24 }', ...MINIMAL_JAIL),
    message: `${FILE}:2: defaults.subnet: unknown key "size" (expected one of: enabled, ipv4_prefix, ipv6_prefix, maxretry, min_addresses, bantime)`,
  },
  {
    name: 'bad duration',
    text: lines('[defaults]', 'maxretry = 5', 'findtime = "10x"', ...MINIMAL_JAIL),
    message: `${FILE}:3: defaults.findtime: invalid duration "10x": unknown unit "x" (expected e.g. 90s, 10m, 1h30m, 2d, 1w, or -1 for permanent)`,
  },
  {
    name: 'findtime cannot be permanent',
    text: lines(...MINIMAL_JAIL, 'findtime = -1'),
    message: `${FILE}:4: jails.postfix.findtime: cannot be permanent (-1) here`,
  },
  {
    name: 'bad duration through a dotted key',
    text: lines('[defaults]', 'bantime_increment.maxtime = "1 fortnight"', ...MINIMAL_JAIL),
    message: `${FILE}:2: defaults.bantime_increment.maxtime: invalid duration "1 fortnight": unknown unit "fortnight" (expected e.g. 90s, 10m, 1h30m, 2d, 1w, or -1 for permanent)`,
  },
  {
    name: 'bad CIDR in a multi-line array names the element line',
    text: lines('[defaults]', 'ignoreip = [', '  "127.0.0.0/8",', '  "10.1.2/8",', ']', ...MINIMAL_JAIL),
    message: `${FILE}:4: defaults.ignoreip[1]: invalid address "10.1.2/8": IPv4 must be four decimal numbers 0-255 (like 192.0.2.1)`,
  },
  {
    name: 'bad allow_names pattern',
    text: lines('[defaults]', 'allow_names = [', '  "*.google.com",', '  "unknown[1.2.3.4].outlook.com",', ']', ...MINIMAL_JAIL),
    message: `${FILE}:4: defaults.allow_names[1]: allow_names: "unknown[1.2.3.4].outlook.com" is not a host name or "*." and a domain (letters, digits, "-" and dots, at least two labels; "*" only as the whole first label)`,
  },
  {
    name: 'ignorecommand given as one string (a shell line)',
    text: lines(...MINIMAL_JAIL, 'ignorecommand = "/usr/local/bin/is-friend <ip>"'),
    message: `${FILE}:4: jails.postfix.ignorecommand: expected an argument array, e.g. ["/usr/local/bin/is-friend", "<ip>"] (no shell runs it)`,
  },
  {
    name: 'ignorecommand without <ip>',
    text: lines('[defaults]', 'ignorecommand = ["/bin/true", "ip"]', ...MINIMAL_JAIL),
    message: `${FILE}:2: defaults.ignorecommand: no argument holds <ip>: the program would not know which address to judge`,
  },
  {
    name: 'ignorecommand with an unknown tag',
    text: lines(...MINIMAL_JAIL, 'ignorecommand = ["/bin/true", "<ip>", "<F-USER>"]'),
    message: `${FILE}:4: jails.postfix.ignorecommand: unknown tag <F-USER> in "<F-USER>" (only <ip> is replaced)`,
  },
  {
    name: 'ignorecommand with a relative program',
    text: lines(...MINIMAL_JAIL, 'ignorecommand = ["is-friend", "<ip>"]'),
    message: `${FILE}:4: jails.postfix.ignorecommand: the program "is-friend" must be an absolute path (the daemon's PATH is not yours)`,
  },
  {
    name: 'ignorecommand program missing',
    text: lines(...MINIMAL_JAIL, 'ignorecommand = ["/nonexistent/is-friend", "<ip>"]'),
    message: `${FILE}:4: jails.postfix.ignorecommand: ignorecommand: program "/nonexistent/is-friend" not found or not executable`,
  },
  {
    name: 'ignorecommand_timeout too long',
    text: lines(...MINIMAL_JAIL, 'ignorecommand_timeout = "5m"'),
    message: `${FILE}:4: jails.postfix.ignorecommand_timeout: must be between 1ms and 60s (the verdict holds up the log)`,
  },
  {
    name: 'allow_names covering a top-level domain',
    text: lines(...MINIMAL_JAIL, 'allow_names = ["*.com"]'),
    message: `${FILE}:4: jails.postfix.allow_names[0]: allow_names: "*.com" covers a whole top-level domain`,
  },
  {
    name: 'bad prefix in ignoreip',
    text: lines(...MINIMAL_JAIL, 'ignoreip = ["2001:db8::/130"]'),
    message: `${FILE}:4: jails.postfix.ignoreip[0]: invalid network "2001:db8::/130": prefix /130 is longer than 128 bits`,
  },
  {
    name: 'missing filter',
    text: lines('[defaults]', 'maxretry = 3', '[jails.postfix]', 'logpath = "/var/log/mail.log"'),
    message: `${FILE}:3: jails.postfix: missing key "filter" (e.g. filter = "postfix")`,
  },
  {
    name: 'missing logpath',
    text: lines('[jails.postfix]', 'filter = "postfix"'),
    message: `${FILE}:1: jails.postfix: missing key "logpath" or "journalmatch" (e.g. logpath = ["/var/log/mail.log"], or journalmatch = ["_SYSTEMD_UNIT=postfix@-.service"])`,
  },
  {
    name: 'unparsable filter reference',
    text: lines('[jails.postfix]', 'logpath = "/var/log/mail.log"', 'filter = "postfix[mode=]"'),
    message: `${FILE}:3: jails.postfix.filter: invalid filter reference "postfix[mode=]" (expected NAME, PATH, NAME[mode=MODE] or fail2ban:NAME[option=value, …])`,
  },
  {
    name: 'filter refused by the caller',
    text: lines('', ...MINIMAL_JAIL),
    opts: { checkFilter: (s) => `unknown filter "${s}"` },
    message: `${FILE}:3: jails.postfix.filter: unknown filter "postfix"`,
  },
  {
    name: 'action refused by the caller names the element line',
    text: lines('[defaults]', 'action = [', '  "dry-run",', '  "nftabels",', ']', ...MINIMAL_JAIL),
    opts: { checkFilter: () => undefined, checkAction: (a) => (a === 'dry-run' ? undefined : `unknown action "${a}"`) },
    message: `${FILE}:4: defaults.action[1]: unknown action "nftabels"`,
  },
  {
    name: 'wrong type: string where an integer is expected',
    text: lines(...MINIMAL_JAIL, 'maxretry = "5"'),
    message: `${FILE}:4: jails.postfix.maxretry: expected an integer, got the string "5"`,
  },
  {
    name: 'wrong type: float maxretry',
    text: lines(...MINIMAL_JAIL, 'maxretry = 2.5'),
    message: `${FILE}:4: jails.postfix.maxretry: expected an integer, got the number 2.5`,
  },
  {
    name: 'wrong type: enabled as a string',
    text: lines(...MINIMAL_JAIL, 'enabled = "yes"'),
    message: `${FILE}:4: jails.postfix.enabled: expected true or false, got the string "yes"`,
  },
  {
    name: 'wrong type: a jail that is not a table',
    text: lines('[jails]', 'postfix = "on"'),
    message: `${FILE}:2: jails.postfix: expected a table, got the string "on"`,
  },
  {
    name: 'wrong type: logpath element',
    text: lines('[jails.postfix]', 'filter = "postfix"', 'logpath = ["/var/log/mail.log", 7]'),
    message: `${FILE}:3: jails.postfix.logpath[1]: expected strings, got the integer 7`,
  },
  {
    name: 'maxretry < 1',
    text: lines('[defaults]', 'maxretry = 0', ...MINIMAL_JAIL),
    message: `${FILE}:2: defaults.maxretry: must be at least 1, got 0`,
  },
  {
    name: 'subnet maxretry < 1',
    text: lines(...MINIMAL_JAIL, '[jails.postfix.subnet]', 'maxretry = -3'),
    message: `${FILE}:5: jails.postfix.subnet.maxretry: must be at least 1, got -3`,
  },
  {
    name: 'ipv4 prefix out of range',
    text: lines('[defaults.subnet]', 'ipv4_prefix = 33', ...MINIMAL_JAIL),
    message: `${FILE}:2: defaults.subnet.ipv4_prefix: must be between 8 and 31, got 33 (a longer prefix is a single address, which the address rule already bans)`,
  },
  {
    name: 'ipv6 prefix out of range',
    text: lines('[defaults.subnet]', 'ipv6_prefix = 0', ...MINIMAL_JAIL),
    message: `${FILE}:2: defaults.subnet.ipv6_prefix: must be between 16 and 127, got 0 (a longer prefix is a single address, which the address rule already bans)`,
  },
  {
    name: 'min_addresses above maxretry, blamed on the later key',
    text: lines('[defaults.subnet]', 'enabled = true', 'maxretry = 20', ...MINIMAL_JAIL, '[jails.postfix.subnet]', 'min_addresses = 25'),
    message: `${FILE}:8: jails.postfix.subnet.min_addresses: subnet.min_addresses (25) is greater than subnet.maxretry (20), so no network could ever be banned`,
  },
  {
    name: 'maxtime shorter than bantime',
    text: lines('[defaults]', 'bantime = "2h"', '[defaults.bantime_increment]', 'enabled = true', 'maxtime = "30m"', ...MINIMAL_JAIL),
    message: `${FILE}:5: defaults.bantime_increment.maxtime: bantime_increment.maxtime (30m) is shorter than bantime (2h)`,
  },
  {
    name: 'increment factor below 1',
    text: lines('[defaults.bantime_increment]', 'factor = 0.5', ...MINIMAL_JAIL),
    message: `${FILE}:2: defaults.bantime_increment.factor: must be at least 1, got 0.5`,
  },
  {
    name: 'bad port',
    text: lines(...MINIMAL_JAIL, 'ports = ["25", "70000"]'),
    message: `${FILE}:4: jails.postfix.ports[1]: invalid port "70000" (expected a number 1-65535, a range like "8000-8080", a service name like "submission", or "all")`,
  },
  {
    name: 'bad protocol',
    text: lines(...MINIMAL_JAIL, 'protocol = "sctp"'),
    message: `${FILE}:4: jails.postfix.protocol: unknown protocol "sctp" (expected one of: tcp, udp)`,
  },
  {
    name: 'bad log level',
    text: lines('[pban]', 'loglevel = "verbose"', ...MINIMAL_JAIL),
    message: `${FILE}:2: pban.loglevel: unknown level "verbose" (expected one of: trace, debug, info, warn, error, fatal, silent)`,
  },
  {
    name: 'bad time zone',
    text: lines('[pban]', 'timezone = "Mars/Olympus"', ...MINIMAL_JAIL),
    message: `${FILE}:2: pban.timezone: unknown time zone "Mars/Olympus" (expected an IANA name like "Europe/Paris" or "UTC", or "system")`,
  },
  {
    name: 'empty action list',
    text: lines(...MINIMAL_JAIL, 'action = []'),
    message: `${FILE}:4: jails.postfix.action: must name at least one action (use "dry-run" to only log)`,
  },
  {
    name: 'invalid jail name',
    text: lines('[jails."post fix"]', 'filter = "postfix"', 'logpath = "/var/log/mail.log"'),
    message: `${FILE}:1: jails."post fix": invalid jail name "post fix" (letters, digits, "_" and "-", at most 20 characters: it names firewall tables and chains)`,
  },
  {
    name: 'jail name too long for a firewall chain',
    text: lines('[jails.postfix-submission-sasl]', 'filter = "postfix"', 'logpath = "/var/log/mail.log"'),
    message: `${FILE}:1: jails.postfix-submission-sasl: invalid jail name "postfix-submission-sasl" (letters, digits, "_" and "-", at most 20 characters: it names firewall tables and chains)`,
  },
  {
    name: 'no jail at all',
    text: lines('[defaults]', 'maxretry = 3'),
    message: `${FILE}: no jail defined (add a [jails.NAME] table with filter and logpath or journalmatch)`,
  },
  {
    name: 'TOML syntax error',
    text: lines('[defaults]', 'maxretry = 3', 'bantime = ', ...MINIMAL_JAIL),
    message: `${FILE}:3: TOML syntax error at column 11: invalid value`,
  },
  {
    name: 'TOML duplicate key',
    text: lines(...MINIMAL_JAIL, 'filter = "dovecot"'),
    message: `${FILE}:4: TOML syntax error at column 1: trying to redefine an already defined table or value`,
  },
  {
    name: 'a bans jail takes no filter',
    text: lines(...MINIMAL_JAIL, '[jails.recidive]', 'source = "bans"', 'filter = "postfix"'),
    message: `${FILE}:6: jails.recidive.filter: a jail with source = "bans" reads no log: it counts the bans of the other jails (remove filter)`,
  },
  {
    name: 'a bans jail reads no log',
    text: lines(...MINIMAL_JAIL, '[jails.recidive]', 'source = "bans"', 'logpath = ["/var/log/mail.log"]'),
    message: `${FILE}:6: jails.recidive.logpath: a jail with source = "bans" reads no log: it counts the bans of the other jails (remove logpath)`,
  },
  {
    name: 'a bans jail has no subnet rule',
    text: lines(...MINIMAL_JAIL, '[jails.recidive]', 'source = "bans"', 'subnet = { enabled = true }'),
    message: `${FILE}:6: jails.recidive.subnet.enabled: a jail with source = "bans" counts addresses only (no subnet rule)`,
  },
  {
    name: 'unknown source',
    text: lines(...MINIMAL_JAIL, '[jails.recidive]', 'source = "fail2ban.log"'),
    message: `${FILE}:5: jails.recidive.source: unknown source "fail2ban.log" (expected "log", the default, or "bans": count the bans of the other jails)`,
  },
];

for (const c of errorCases) {
  test(`error: ${c.name}`, () => {
    expectError(c.text, c.message, c.opts);
  });
}

test('errors carry a stable code', () => {
  assert.equal(expectError(lines(...MINIMAL_JAIL, 'maxretries = 3'), `${FILE}:4: jails.postfix: unknown key "maxretries" (did you mean "maxretry"?)`).code, 'config.unknownKey');
  const syntax = expectError(lines('a = '), `${FILE}:1: TOML syntax error at column 5: invalid value`);
  assert.equal(syntax.code, 'config.syntax');
  assert.equal(syntax.line, 1);
});

test('[pban] metrics and logformat are read with the line of the metrics key', () => {
  const cfg = load(lines('[pban]', 'logformat = "text"', 'metrics = "[::1]:9464"', ...MINIMAL_JAIL));
  assert.equal(cfg.pban.logformat, 'text');
  assert.deepEqual(cfg.pban.metrics, { listen: { host: '::1', port: 9464, text: '[::1]:9464' }, file: FILE, line: 3 });
  assert.equal(load(lines('[pban]', 'logformat = "json"', ...MINIMAL_JAIL)).pban.logformat, 'json');
});

// --- Defaults, inheritance, merge ------------------------------------------------------------

test('a minimal jail gets the built-in defaults', () => {
  const cfg = load(lines(...MINIMAL_JAIL));
  assert.deepEqual(cfg.pban, { database: '/var/lib/pban/pban.sqlite', socket: '/run/pban/pban.sock', loglevel: 'info', logformat: undefined, timezone: undefined, metrics: null, checkInterval: 30_000, fail2banFilterDir: '/etc/fail2ban/filter.d' });
  assert.equal(cfg.jails.length, 1);
  const jail = cfg.jails[0]!;
  assert.deepEqual(
    { ...jail, policy: undefined },
    { name: 'postfix', enabled: true, filter: 'postfix', logpath: ['/var/log/mail.log'], journal: null, actions: ['nftables'], ports: 'all', protocol: 'tcp', policy: undefined, ignoreCommand: null },
  );
  assert.deepEqual(jail.policy, {
    name: 'postfix',
    findtime: 10 * M,
    maxretry: 5,
    bantime: H,
    increment: { enabled: false, factor: 2, maxtime: 168 * H, remember: 168 * H },
    subnet: { enabled: false, ipv4Prefix: 24, ipv6Prefix: 64, maxretry: 20, minAddresses: 3, bantime: 6 * H },
    ignore: [],
    allowNames: [],
    self: SELF,
  });
});

test('jails inherit [defaults] and override single keys; nested tables merge key by key', () => {
  const cfg = load(lines(
    '[defaults]',
    'findtime = "20m"',
    'maxretry = 4',
    'bantime = "2h"',
    'ignoreip = ["192.0.2.0/24"]',
    'action = ["nftables", "dry-run"]',
    '[defaults.bantime_increment]',
    'enabled = true',
    'factor = 3',
    'maxtime = "2d"',
    '[defaults.subnet]',
    'enabled = true',
    'maxretry = 30',
    'min_addresses = 4',
    '[jails.postfix]',
    'filter = "postfix[mode=aggressive]"',
    'logpath = ["/var/log/mail.log", "/var/log/mail-*.log"]',
    'maxretry = 2',
    'action = "dry-run"',
    'bantime_increment = { factor = 1.5 }',
    '[jails.postfix.subnet]',
    'ipv4_prefix = 16',
    '[jails.dovecot]',
    'filter = "dovecot"',
    'logpath = "/var/log/mail.log"',
    'ignoreip = ["2001:db8::/32"]',
  ));
  const [postfix, dovecot] = cfg.jails;
  assert.ok(postfix && dovecot);
  assert.deepEqual(postfix.actions, ['dry-run']);
  assert.deepEqual(postfix.logpath, ['/var/log/mail.log', '/var/log/mail-*.log']);
  assert.equal(postfix.filter, 'postfix[mode=aggressive]');
  assert.deepEqual(postfix.policy, {
    name: 'postfix',
    findtime: 20 * M,
    maxretry: 2,
    bantime: 2 * H,
    increment: { enabled: true, factor: 1.5, maxtime: 48 * H, remember: 48 * H },
    subnet: { enabled: true, ipv4Prefix: 16, ipv6Prefix: 64, maxretry: 30, minAddresses: 4, bantime: 6 * H },
    ignore: [{ addr: '192.0.2.0', prefix: 24, family: 4 }],
    allowNames: [],
    self: SELF,
  });
  assert.deepEqual(dovecot.actions, ['nftables', 'dry-run']);
  assert.equal(dovecot.policy.maxretry, 4);
  assert.equal(dovecot.policy.increment.factor, 3);
  assert.equal(dovecot.policy.subnet.ipv4Prefix, 24);
  // An array replaces the inherited one; it is not appended to.
  assert.deepEqual(dovecot.policy.ignore, [{ addr: '2001:db8::', prefix: 32, family: 6 }]);
});

test('jails keep file order, and disabled jails are kept with enabled: false', () => {
  const cfg = load(lines(
    '[jails.b]', 'filter = "postfix"', 'logpath = "/l"', 'enabled = false',
    '[jails.a]', 'filter = "dovecot"', 'logpath = "/l"',
  ));
  assert.deepEqual(cfg.jails.map((j) => [j.name, j.enabled]), [['b', false], ['a', true]]);
});

test('a disabled jail skips the filter and action checks, an enabled one does not', () => {
  const refuse: LoadOptions = { checkFilter: () => 'not installed', checkAction: () => 'not installed' };
  const text = lines('[jails.dovecot]', 'enabled = false', 'filter = "dovecot"', 'logpath = "/l"');
  assert.equal(load(text, refuse).jails[0]?.enabled, false);
  expectError(text.replace('enabled = false', 'enabled = true'), `${FILE}:3: jails.dovecot.filter: not installed`, refuse);
});

test('an action refused by the caller that comes from the built-in default blames the jail', () => {
  expectError(lines(...MINIMAL_JAIL), `${FILE}:1: jails.postfix: no nftables here`, {
    checkFilter: () => undefined,
    checkAction: (a) => `no ${a} here`,
  });
});

// --- Durations, permanent, remember ----------------------------------------------------------

test('permanent bans are null; remember defaults to maxtime, or forever when maxtime is unbounded', () => {
  const cfg = load(lines(
    '[defaults]', 'bantime = -1',
    '[defaults.subnet]', 'bantime = "-1"',
    '[defaults.bantime_increment]', 'enabled = true', 'maxtime = -1',
    ...MINIMAL_JAIL,
    '[jails.second]', 'filter = "postfix"', 'logpath = "/l"', 'bantime = "1h30m"',
    'bantime_increment.remember = "4w"', 'bantime_increment.maxtime = "1d"',
  ));
  const [first, second] = cfg.jails;
  assert.equal(first?.policy.bantime, null);
  assert.equal(first?.policy.subnet.bantime, null);
  assert.equal(first?.policy.increment.maxtime, null);
  assert.equal(first?.policy.increment.remember, Number.MAX_SAFE_INTEGER);
  assert.equal(second?.policy.bantime, 90 * M);
  assert.equal(second?.policy.increment.maxtime, 24 * H);
  assert.equal(second?.policy.increment.remember, 4 * 168 * H);
});

test('a bare number is seconds, as in fail2ban', () => {
  const cfg = load(lines(...MINIMAL_JAIL, 'findtime = 600', 'bantime = 3600'));
  assert.equal(cfg.jails[0]?.policy.findtime, 10 * M);
  assert.equal(cfg.jails[0]?.policy.bantime, H);
});

// --- ignoreip, ports, paths, [pban] ----------------------------------------------------------

test('ignoreip is normalised: masked, compressed, IPv4-mapped to IPv4, fail2ban strings split', () => {
  const cfg = load(lines(...MINIMAL_JAIL,
    'ignoreip = ["127.0.0.1/8", "::1", "2001:DB8:0:0:0:0:0:5/64", "::ffff:198.51.100.7", "192.0.2.1 203.0.113.0/24"]'));
  assert.deepEqual(cfg.jails[0]?.policy.ignore, [
    { addr: '127.0.0.0', prefix: 8, family: 4 },
    { addr: '::1', prefix: 128, family: 6 },
    { addr: '2001:db8::', prefix: 64, family: 6 },
    { addr: '198.51.100.7', prefix: 32, family: 4 },
    { addr: '192.0.2.1', prefix: 32, family: 4 },
    { addr: '203.0.113.0', prefix: 24, family: 4 },
  ]);
});

test('ports accept lists, numbers, ranges, service names, fail2ban strings and "all"', () => {
  const ports = (v: string): unknown => load(lines(...MINIMAL_JAIL, `ports = ${v}`)).jails[0]?.ports;
  assert.deepEqual(ports('["25", 465, "submission", "8000:8080"]'), ['25', '465', '587', '8000-8080']);
  assert.deepEqual(ports('"smtp,465,submission"'), ['25', '465', '587']);
  assert.equal(ports('"all"'), 'all');
  assert.deepEqual(ports('25'), ['25']);
});

test('relative paths resolve against the config file directory', () => {
  const cfg = parseConfigText(lines(
    '[pban]', 'database = "state/pban.sqlite"', 'socket = "/run/x.sock"', 'timezone = "Europe/Paris"', 'loglevel = "debug"',
    '[jails.demo]', 'filter = "my-filters/mine.toml[mode=strict]"', 'logpath = "logs/mail.log"',
  ), '/srv/pban/pban.toml', accept);
  assert.deepEqual(cfg.pban, { database: '/srv/pban/state/pban.sqlite', socket: '/run/x.sock', loglevel: 'debug', logformat: undefined, timezone: 'Europe/Paris', metrics: null, checkInterval: 30_000, fail2banFilterDir: '/etc/fail2ban/filter.d' });
  assert.equal(cfg.jails[0]?.filter, '/srv/pban/my-filters/mine.toml[mode=strict]');
  assert.deepEqual(cfg.jails[0]?.logpath, ['/srv/pban/logs/mail.log']);
});

test('timezone "system" means the machine zone (undefined)', () => {
  assert.equal(load(lines('[pban]', 'timezone = "system"', ...MINIMAL_JAIL)).pban.timezone, undefined);
});

// --- The default filter check and loadConfig ---------------------------------------------------

test('default filter check: a filter file given by path must exist', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pban-config-'));
  try {
    writeFileSync(path.join(dir, 'mine.toml'), 'name = "mine"\n');
    const ok = lines('[jails.mine]', 'filter = "mine.toml[mode=strict]"', 'logpath = "/l"');
    const cfg = parseConfigText(ok, path.join(dir, 'pban.toml'), { checkAction: () => undefined });
    assert.equal(cfg.jails[0]?.filter, `${path.join(dir, 'mine.toml')}[mode=strict]`);
    const missing = ok.replace('mine.toml', 'gone.toml');
    assert.throws(() => parseConfigText(missing, path.join(dir, 'pban.toml')), {
      message: `${path.join(dir, 'pban.toml')}:2: jails.mine.filter: filter file not found: ${path.join(dir, 'gone.toml')}`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('default filter check: an unknown shipped name is refused', () => {
  assert.throws(() => load(lines('[jails.x]', 'filter = "nosuchfilter"', 'logpath = "/l"'), {}), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^\/etc\/pban\/pban\.toml:2: jails\.x\.filter: unknown filter "nosuchfilter" \(shipped filters: /);
    return true;
  });
});

test('loadConfig reads a file, and names it when it cannot', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pban-config-'));
  try {
    const file = path.join(dir, 'pban.toml');
    writeFileSync(file, lines(...MINIMAL_JAIL, 'maxretry = 3'));
    assert.equal(loadConfig(file, accept).jails[0]?.policy.maxretry, 3);
    assert.equal(loadConfig(file, accept).file, file);
    assert.throws(() => loadConfig(path.join(dir, 'none.toml')), {
      message: `${path.join(dir, 'none.toml')}: cannot read config: no such file`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config that is a FIFO, a device or too large is refused at once with one line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pban-config-'));
  try {
    const fifo = path.join(dir, 'fifo.toml');
    execFileSync('mkfifo', [fifo]);
    const t0 = Date.now();
    assert.throws(() => loadConfig(fifo), { message: `${fifo}: cannot read config: is a FIFO, not a regular file` });
    assert.throws(() => loadConfig('/dev/zero'), { message: '/dev/zero: cannot read config: is a character device, not a regular file' });
    assert.throws(() => loadConfig(dir), { message: `${dir}: cannot read config: is a directory, not a regular file` });
    assert.ok(Date.now() - t0 < 1000, 'refused without blocking or reading');
    const big = path.join(dir, 'big.toml');
    writeFileSync(big, lines(...MINIMAL_JAIL) + '#'.repeat(MAX_CONFIG_FILE_BYTES));
    assert.throws(() => loadConfig(big), { message: `${big}: cannot read config: is larger than ${MAX_CONFIG_FILE_BYTES} bytes, too large for a configuration file` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a logpath that is a FIFO, a device or a directory is refused naming its line; a missing one or a glob is not', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pban-config-'));
  try {
    const fifo = path.join(dir, 'fifo.log');
    execFileSync('mkfifo', [fifo]);
    const cfg = (logpath: string): string => lines('[jails.postfix]', 'filter = "postfix"', `logpath = ["/var/log/mail.log",`, `  "${logpath}"]`);
    expectError(cfg(fifo), `${FILE}:4: jails.postfix.logpath[1]: ${fifo} is a FIFO, not a regular file: a logpath must name log files`);
    expectError(cfg('/dev/null'), `${FILE}:4: jails.postfix.logpath[1]: /dev/null is a character device, not a regular file: a logpath must name log files`);
    expectError(cfg(dir), `${FILE}:4: jails.postfix.logpath[1]: ${dir} is a directory, not a regular file: a logpath must name log files`);
    assert.deepEqual(load(cfg(path.join(dir, 'missing.log'))).jails[0]!.logpath, ['/var/log/mail.log', path.join(dir, 'missing.log')]);
    assert.equal(load(cfg(path.join(dir, '*.log'))).jails[0]!.logpath.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// --- The shipped example -----------------------------------------------------------------------

const EXAMPLE = path.join(PACKAGE_ROOT, 'jail.example.toml');

test('jail.example.toml loads and says what its comments say', () => {
  const cfg = loadConfig(EXAMPLE, accept);
  assert.deepEqual(cfg.pban, { database: '/var/lib/pban/pban.sqlite', socket: '/run/pban/pban.sock', loglevel: 'info', logformat: undefined, timezone: undefined, metrics: null, checkInterval: 30_000, fail2banFilterDir: '/etc/fail2ban/filter.d' });
  const postfix = cfg.jails.find((j) => j.name === 'postfix');
  assert.ok(postfix);
  assert.equal(postfix.enabled, true);
  assert.equal(postfix.filter, 'postfix');
  assert.deepEqual(postfix.logpath, ['/var/log/mail.log']);
  assert.deepEqual(postfix.actions, ['nftables']);
  assert.deepEqual(postfix.ports, ['25', '465', '587']);
  assert.deepEqual(postfix.policy, {
    name: 'postfix',
    findtime: 10 * M,
    maxretry: 5,
    bantime: H,
    increment: { enabled: true, factor: 2, maxtime: 168 * H, remember: 168 * H },
    subnet: { enabled: true, ipv4Prefix: 24, ipv6Prefix: 64, maxretry: 20, minAddresses: 3, bantime: 6 * H },
    ignore: [{ addr: '127.0.0.0', prefix: 8, family: 4 }, { addr: '::1', prefix: 128, family: 6 }],
    self: SELF,
    allowNames: ['*.outbound.protection.outlook.com', '*.google.com', '*.amazonses.com', '*.mail.protection.outlook.com', '*.mailgun.net', '*.sendgrid.net'].map((p) => ({ pattern: p, tail: p.slice(1), wildcard: true })),
  });
});

test('jail.example.toml loads with the default checks (the shipped filter must exist)', () => {
  const cfg = loadConfig(EXAMPLE);
  assert.ok(cfg.jails.some((j) => j.enabled));
});

test('jail.example.toml documents every key the loader accepts', () => {
  const text = readFileSync(EXAMPLE, 'utf8');
  for (const key of ['database', 'socket', 'loglevel', 'logformat', 'metrics', 'timezone', 'findtime', 'maxretry', 'bantime', 'ignoreip', 'action',
    'ports', 'protocol', 'enabled', 'factor', 'maxtime', 'remember', 'ipv4_prefix', 'ipv6_prefix', 'min_addresses',
    'filter', 'logpath', 'dry-run']) {
    assert.match(text, new RegExp(`^#?\\s*${key}\\b|"${key}"`, 'm'), `${key} appears in the example`);
  }
});

test('ignoreself: the machine\'s addresses are read at load unless a jail turns it off', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pban-ignoreself-'));
  const file = path.join(dir, 'pban.toml');
  writeFileSync(file, lines(...MINIMAL_JAIL, '[jails.other]', 'filter = "postfix"', 'logpath = "/var/log/mail.log"', 'ignoreself = false'));
  let reads = 0;
  const cfg = loadConfig(file, { ...accept, selfAddresses: () => { reads++; return SELF as unknown as Target[]; } });
  assert.deepEqual(cfg.jails.map((j) => [j.name, j.policy.self]), [['postfix', SELF], ['other', []]]);
  assert.equal(reads, 1);
  // Without an injected reader: this machine's interfaces, loopback among them.
  const real = loadConfig(file, { checkFilter: () => undefined, checkAction: () => undefined });
  assert.ok(real.jails[0]?.policy.self?.some((t) => t.addr === '127.0.0.1'));
  assert.deepEqual(machineAddresses().filter((t) => t.addr === '127.0.0.1'), [{ addr: '127.0.0.1', prefix: 32, family: 4 }]);
});

test('ignorecommand: an argument array with its timeout and cache; a jail turns an inherited one off with []', () => {
  const cfg = load(lines('[defaults]', 'ignorecommand = ["/bin/true", "--ip=<ip>"]', 'ignorecommand_timeout = "2s"', ...MINIMAL_JAIL, '[jails.other]', 'filter = "postfix"', 'logpath = "/var/log/mail.log"', 'ignorecommand = []'));
  assert.deepEqual(cfg.jails[0]!.ignoreCommand, { argv: ['/bin/true', '--ip=<ip>'], timeoutMs: 2000, cacheMs: 300_000 });
  assert.equal(cfg.jails[1]!.ignoreCommand, null);
});

test('a jail with source = "bans" (recidive) blocks every port unless it names ports, and counts addresses only', () => {
  const cfg = load(lines(
    '[defaults]', 'ports = ["25", "587"]', 'subnet = { enabled = true }',
    ...MINIMAL_JAIL,
    '[jails.recidive]', 'source = "bans"', 'maxretry = 3', 'findtime = "1d"', 'bantime = "1w"',
    '[jails.recidive-smtp]', 'source = "bans"', 'ports = ["25"]',
  ));
  const [postfix, rec, recSmtp] = cfg.jails;
  assert.deepEqual([postfix?.source, postfix?.ports, postfix?.policy.subnet.enabled], [undefined, ['25', '587'], true]);
  assert.deepEqual([rec?.source, rec?.filter, rec?.logpath, rec?.journal, rec?.ports], ['bans', 'bans', [], null, 'all']);
  assert.deepEqual([rec?.policy.maxretry, rec?.policy.findtime, rec?.policy.bantime, rec?.policy.subnet.enabled], [3, 24 * H, 7 * 24 * H, false]);
  assert.deepEqual(recSmtp?.ports, ['25']);
});
