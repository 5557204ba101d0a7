// Reads a pban TOML file into a normalised PbanConfig: built-in defaults, then [defaults],
// then each [jails.NAME], merged key by key (nested tables merge, arrays replace).
import os from 'node:os';
import { parseAllowName, type AllowName } from '../engine/allow-names.js';
import { parseActionSpec } from '../actions/spec.js';
import { findProgram } from '../actions/programs.js';
import { DEFAULT_IGNORE_CACHE_MS, DEFAULT_IGNORE_TIMEOUT_MS, MAX_IGNORE_TIMEOUT_MS, ignoreCommandProblem, type IgnoreCommandSpec } from '../ignore/command-spec.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { policyProblems, type IncrementPolicy, type JailPolicy, type PolicyProblem, type SubnetPolicy } from '../engine/policy.js';
import { ConfigError } from '../errors.js';
import { describeFileError, notRegular, readSmallTextFile } from '../files.js';
import type { Target } from '../events.js';
import { formatFilterSpec, parseFilterSpec } from '../filters/spec.js';
import { DEFAULT_FAIL2BAN_FILTER_DIR, fail2banFilterFile } from '../filters/fail2ban/location.js';
import { resolveFilterAlias } from '../filters/fail2ban/names.js';
import { FILTERS_DIR } from '../paths.js';
import { DEFAULT_DATABASE, DEFAULT_SOCKET, configRelativePath, socketFromConfig } from '../daemon-paths.js';
import { formatDuration, type Duration } from './duration.js';
import { KeyLines } from './key-lines.js';
import { configError, Section, type ConfigSource, type KeyPath } from './section.js';
import { parseTarget } from '../cidr.js';
import { formatPortRange, parsePort } from '../ports.js';
import { checkJournalMatch } from '../sources/journald/config.js';
import { parseListenAddress } from '../metrics/listen-address.js';
import { hasGlob } from '../sources/glob.js';
import { BANS_FILTER, BANS_SOURCE } from '../recidive.js';
import {
  LOG_FORMATS, LOG_LEVELS, PROTOCOLS,
  type DaemonConfig, type JailConfig, type JailJournal, type LoadOptions, type LogFormat, type LogLevel, type PbanConfig, type Ports, type Protocol,
} from './types.js';

const TOP_KEYS = ['pban', 'defaults', 'jails'] as const;
const PBAN_KEYS = ['database', 'socket', 'loglevel', 'logformat', 'timezone', 'metrics', 'check_interval', 'fail2ban_filter_dir'] as const;
/** Keys a jail inherits from [defaults] and may override. */
const INHERITED_KEYS = ['findtime', 'maxretry', 'bantime', 'ignoreip', 'ignoreself', 'allow_names', 'ignorecommand', 'ignorecommand_timeout', 'ignorecommand_cache', 'action', 'ports', 'protocol', 'bantime_increment', 'subnet'] as const;
const JAIL_KEYS = ['enabled', 'source', 'filter', 'logpath', 'journalmatch', 'journal_directory', ...INHERITED_KEYS] as const;
const INCREMENT_KEYS = ['enabled', 'factor', 'maxtime', 'remember'] as const;
const SUBNET_KEYS = ['enabled', 'ipv4_prefix', 'ipv6_prefix', 'maxretry', 'min_addresses', 'bantime'] as const;

const JAIL_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$/;
/** `remember` for a permanent maxtime: earlier bans count forever (a finite number keeps arithmetic simple). */
const FOREVER = Number.MAX_SAFE_INTEGER;

export const BUILTIN_DAEMON: DaemonConfig = {
  database: DEFAULT_DATABASE,
  socket: DEFAULT_SOCKET,
  loglevel: 'info',
  logformat: undefined,
  timezone: undefined,
  checkInterval: 30_000,
  metrics: null,
  fail2banFilterDir: DEFAULT_FAIL2BAN_FILTER_DIR,
};

/** A value together with the key it came from, so cross-key checks can name a line. */
interface Located<T> {
  readonly value: T;
  readonly at: KeyPath;
}

/** One layer of inheritable settings; a missing key falls through to the layer below. */
interface Settings {
  findtime?: Located<number>;
  maxretry?: Located<number>;
  bantime?: Located<Duration>;
  ignore?: Located<readonly Target[]>;
  allowNames?: Located<readonly AllowName[]>;
  ignoreSelf?: Located<boolean>;
  /** Empty: none (a jail's `ignorecommand = []` turns an inherited one off). */
  ignoreCommand?: Located<readonly string[]>;
  ignoreTimeout?: Located<number>;
  ignoreCache?: Located<number>;
  actions?: Located<readonly ActionRef[]>;
  ports?: Located<Ports>;
  protocol?: Located<Protocol>;
  incEnabled?: Located<boolean>;
  incFactor?: Located<number>;
  incMaxtime?: Located<Duration>;
  incRemember?: Located<Duration>;
  netEnabled?: Located<boolean>;
  netIpv4Prefix?: Located<number>;
  netIpv6Prefix?: Located<number>;
  netMaxretry?: Located<number>;
  netMinAddresses?: Located<number>;
  netBantime?: Located<Duration>;
}

const HERE: KeyPath = [];
const builtin = <T>(value: T): Located<T> => ({ value, at: HERE });

/** What applies when neither [defaults] nor the jail says otherwise. */
const BUILTIN_SETTINGS: Required<Omit<Settings, 'incRemember'>> & Pick<Settings, 'incRemember'> = {
  findtime: builtin(600_000),
  maxretry: builtin(5),
  bantime: builtin(3_600_000),
  ignore: builtin([]),
  allowNames: builtin([]),
  ignoreSelf: builtin(true),
  ignoreCommand: builtin([]),
  ignoreTimeout: builtin(DEFAULT_IGNORE_TIMEOUT_MS),
  ignoreCache: builtin(DEFAULT_IGNORE_CACHE_MS),
  actions: builtin([{ name: 'nftables', at: HERE }]),
  ports: builtin('all'),
  protocol: builtin('tcp'),
  incEnabled: builtin(false),
  incFactor: builtin(2),
  incMaxtime: builtin(604_800_000),
  netEnabled: builtin(false),
  netIpv4Prefix: builtin(24),
  netIpv6Prefix: builtin(64),
  netMaxretry: builtin(20),
  netMinAddresses: builtin(3),
  netBantime: builtin(21_600_000),
};

/** Reads and validates a config file. Throws ConfigError naming file:line on any problem. */
export function loadConfig(file: string, opts: LoadOptions = {}): PbanConfig {
  let text: string;
  try {
    // A FIFO or a device (/dev/zero) is refused at once instead of blocking or being read forever.
    text = readSmallTextFile(file);
  } catch (err) {
    throw new ConfigError('config.unreadable', file, undefined, `cannot read config: ${describeFileError(err)}`, { cause: err });
  }
  return parseConfigText(text, file, opts);
}

/** Parses config text as if read from `fileName` (relative paths resolve against its directory). */
export function parseConfigText(text: string, fileName: string, opts: LoadOptions = {}): PbanConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const what = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
      throw new ConfigError('config.syntax', fileName, err.line, `TOML syntax error at column ${err.column}: ${what}`, { cause: err });
    }
    throw err;
  }
  const src: ConfigSource = { file: fileName, lines: KeyLines.scan(text) };
  const baseDir = path.dirname(path.resolve(fileName));
  const root = Section.at(src, HERE, doc);
  root.allowOnly(TOP_KEYS);

  const pbanSection = root.child('pban');
  const pban = pbanSection ? readDaemon(pbanSection, fileName) : BUILTIN_DAEMON;
  const defaultsSection = root.child('defaults');
  if (defaultsSection) defaultsSection.allowOnly(INHERITED_KEYS);
  const defaults = defaultsSection ? readSettings(defaultsSection) : {};

  const jailsSection = root.child('jails');
  if (!jailsSection || jailsSection.keyNames().length === 0) {
    throw new ConfigError('config.noJail', fileName, src.lines.lineOf(['jails']), 'no jail defined (add a [jails.NAME] table with filter and logpath or journalmatch)');
  }
  const jails = jailsSection.keyNames().map((name) => {
    const section = Section.at(src, ['jails', name], jailsSection.raw(name));
    return readJail(section, name, merge(BUILTIN_SETTINGS, defaults), baseDir, opts, pban);
  });
  return { file: fileName, pban, jails };
}

function readDaemon(s: Section, configFile: string): DaemonConfig {
  s.allowOnly(PBAN_KEYS);
  const loglevel = s.string('loglevel');
  if (loglevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(loglevel)) {
    s.fail('loglevel', `unknown level "${loglevel}" (expected one of: ${LOG_LEVELS.join(', ')})`);
  }
  const timezone = s.string('timezone');
  if (timezone !== undefined && timezone !== 'system' && !isTimeZone(timezone)) {
    s.fail('timezone', `unknown time zone "${timezone}" (expected an IANA name like "Europe/Paris" or "UTC", or "system")`);
  }
  const logformat = s.string('logformat');
  if (logformat !== undefined && !(LOG_FORMATS as readonly string[]).includes(logformat)) {
    s.fail('logformat', `unknown format "${logformat}" (expected one of: ${LOG_FORMATS.join(', ')})`);
  }
  const metricsText = s.string('metrics');
  const listen = metricsText === undefined ? undefined : parseListenAddress(metricsText);
  if (listen !== undefined && 'error' in listen) s.fail('metrics', listen.error);
  const database = s.string('database');
  const socket = s.string('socket');
  const f2bDir = s.string('fail2ban_filter_dir');
  const checkInterval = s.duration('check_interval', false);
  // each check lists the firewall's sets; more often than once a second is only load
  if (checkInterval != null && checkInterval < 1000) s.fail('check_interval', 'must be at least 1s');
  return {
    fail2banFilterDir: f2bDir === undefined ? BUILTIN_DAEMON.fail2banFilterDir : configRelativePath(configFile, f2bDir),
    database: database === undefined ? BUILTIN_DAEMON.database : configRelativePath(configFile, database),
    // The CLI resolves `[pban] socket` with the same function: both always name the same socket.
    socket: socketFromConfig(configFile, socket),
    loglevel: (loglevel as LogLevel | undefined) ?? BUILTIN_DAEMON.loglevel,
    logformat: logformat as LogFormat | undefined,
    timezone: timezone === 'system' ? undefined : timezone,
    checkInterval: checkInterval ?? BUILTIN_DAEMON.checkInterval,
    metrics: listen === undefined ? null : { listen, file: s.src.file, line: s.src.lines.lineOf([...s.path, 'metrics']) },
  };
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Reads the inheritable keys of [defaults] or of a jail. */
function readSettings(s: Section): Settings {
  const out: Settings = {};
  const put = <K extends keyof Settings>(k: K, key: string, value: NonNullable<Settings[K]>['value'] | undefined, sec = s): void => {
    if (value !== undefined) out[k] = { value, at: [...sec.path, key] } as unknown as Settings[K];
  };
  put('findtime', 'findtime', s.duration('findtime', false) as number | undefined);
  put('maxretry', 'maxretry', s.int('maxretry', 1));
  put('bantime', 'bantime', s.duration('bantime', true));
  put('ignore', 'ignoreip', readIgnore(s));
  put('allowNames', 'allow_names', readAllowNames(s));
  put('ignoreSelf', 'ignoreself', s.bool('ignoreself'));
  put('ignoreCommand', 'ignorecommand', readIgnoreCommand(s));
  const ignoreTimeout = s.duration('ignorecommand_timeout', false) as number | undefined;
  if (ignoreTimeout !== undefined && (ignoreTimeout < 1 || ignoreTimeout > MAX_IGNORE_TIMEOUT_MS)) s.fail('ignorecommand_timeout', `must be between 1ms and ${MAX_IGNORE_TIMEOUT_MS / 1000}s (the verdict holds up the log)`);
  put('ignoreTimeout', 'ignorecommand_timeout', ignoreTimeout);
  const ignoreCache = s.duration('ignorecommand_cache', false) as number | undefined;
  // a verdict must outlive the batch it was asked for
  if (ignoreCache !== undefined && ignoreCache < 1000) s.fail('ignorecommand_cache', 'must be at least 1s');
  put('ignoreCache', 'ignorecommand_cache', ignoreCache);
  put('actions', 'action', readActions(s));
  put('ports', 'ports', readPorts(s));
  const protocol = s.string('protocol');
  if (protocol !== undefined && !(PROTOCOLS as readonly string[]).includes(protocol)) {
    s.fail('protocol', `unknown protocol "${protocol}" (expected one of: ${PROTOCOLS.join(', ')})`);
  }
  put('protocol', 'protocol', protocol as Protocol | undefined);

  const inc = s.child('bantime_increment');
  if (inc) {
    inc.allowOnly(INCREMENT_KEYS);
    put('incEnabled', 'enabled', inc.bool('enabled'), inc);
    put('incFactor', 'factor', inc.number('factor', 1), inc);
    put('incMaxtime', 'maxtime', inc.duration('maxtime', true), inc);
    put('incRemember', 'remember', inc.duration('remember', true), inc);
  }
  const net = s.child('subnet');
  if (net) {
    net.allowOnly(SUBNET_KEYS);
    put('netEnabled', 'enabled', net.bool('enabled'), net);
    put('netIpv4Prefix', 'ipv4_prefix', net.int('ipv4_prefix', 0), net);
    put('netIpv6Prefix', 'ipv6_prefix', net.int('ipv6_prefix', 0), net);
    put('netMaxretry', 'maxretry', net.int('maxretry', 1), net);
    put('netMinAddresses', 'min_addresses', net.int('min_addresses', 1), net);
    put('netBantime', 'bantime', net.duration('bantime', true), net);
  }
  return out;
}

function readIgnore(s: Section): Target[] | undefined {
  return s.stringList('ignoreip')?.flatMap(({ value, path: at }) =>
    // fail2ban writes ignoreip space-separated in one string; accept that too.
    value.split(/[\s,]+/).filter(Boolean).map((text) => {
      const t = parseTarget(text);
      if ('error' in t) throw configError(s.src, at, t.error, 'config.badAddress');
      return t;
    }));
}

/** `allow_names`: verified client names whose failures never count (src/engine/allow-names.ts). */
function readAllowNames(s: Section): AllowName[] | undefined {
  return s.stringList('allow_names')?.map(({ value, path: at }) => {
    const p = parseAllowName(value);
    if ('error' in p) throw configError(s.src, at, p.error, 'config.invalidValue');
    return p;
  });
}

/** `ignorecommand`: an argument array; ignore/command-spec.ts owns its rules. */
function readIgnoreCommand(s: Section): string[] | undefined {
  const v = s.raw('ignorecommand');
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
    s.fail('ignorecommand', 'expected an argument array, e.g. ["/usr/local/bin/is-friend", "<ip>"] (no shell runs it)', 'config.wrongType');
  }
  const argv = v as string[];
  if (argv.length === 0) return argv;
  const problem = ignoreCommandProblem(argv);
  if (problem !== undefined) s.fail('ignorecommand', problem);
  return argv;
}

interface ActionRef {
  readonly name: string;
  /** Where this name is written, for an unknown-action error. */
  readonly at: KeyPath;
}

function readActions(s: Section): ActionRef[] | undefined {
  return s.stringList('action')?.map(({ value, path: at }) => {
    const spec = parseActionSpec(value);
    if ('error' in spec) throw configError(s.src, at, spec.error);
    return { name: value, at };
  });
}

function readPorts(s: Section): Ports | undefined {
  const v = s.raw('ports');
  if (v === undefined) return undefined;
  if (v === 'all') return 'all';
  const items: { value: unknown; at: KeyPath }[] = Array.isArray(v)
    ? v.map((value, i) => ({ value, at: [...s.path, 'ports', i] }))
    // fail2ban style: "smtp,465,submission"
    : typeof v === 'string' ? v.split(',').map((value) => ({ value: value.trim(), at: [...s.path, 'ports'] }))
    : [{ value: v, at: [...s.path, 'ports'] }];
  if (items.length === 0) s.fail('ports', 'must not be empty (use "all" to block every port)');
  return items.map(({ value, at }) => {
    // src/ports.ts owns the rule: the actions parse the same text the same way.
    const port = parsePort(value);
    if ('error' in port) throw configError(s.src, at, port.error);
    return formatPortRange(port);
  });
}

function merge(...layers: Settings[]): Settings {
  const out: Settings = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

function readJail(s: Section, name: string, inherited: Settings, baseDir: string, opts: LoadOptions, pban: DaemonConfig): JailConfig {
  if (!JAIL_NAME_RE.test(name)) {
    s.fail(undefined, `invalid jail name "${name}" (letters, digits, "_" and "-", at most 20 characters: it names firewall tables and chains)`);
  }
  s.allowOnly(JAIL_KEYS);
  const enabled = s.bool('enabled') ?? true;
  const source = s.string('source');
  if (source !== undefined && source !== 'log' && source !== BANS_SOURCE) {
    s.fail('source', `unknown source "${source}" (expected "log", the default, or "bans": count the bans of the other jails)`);
  }
  if (source === BANS_SOURCE) return readBansJail(s, name, inherited, opts, pban, enabled);

  let filter = s.string('filter');
  if (filter === undefined) s.fail(undefined, 'missing key "filter" (e.g. filter = "postfix")', 'config.missingKey');
  let spec = parseFilterSpec(filter);
  if ('error' in spec) s.fail('filter', spec.error);
  if (!spec.fail2ban && !spec.isPath && !existsSync(path.join(FILTERS_DIR, `${spec.ref}.toml`))) {
    // A name fail2ban users type (postfix-sasl, sshd, …) stands for its equivalent.
    const alias = resolveFilterAlias(spec);
    if (!('error' in alias)) {
      spec = alias.spec;
      filter = formatFilterSpec(spec);
    }
  }
  if (spec.fail2ban && !spec.isPath) {
    // fail2ban:NAME is NAME.conf in [pban] fail2ban_filter_dir.
    spec = { ...spec, ref: fail2banFilterFile(spec.ref, false, pban.fail2banFilterDir), isPath: true };
    filter = formatFilterSpec(spec);
  }
  if (spec.isPath && !path.isAbsolute(spec.ref)) {
    // A relative filter path means relative to the config file, like every other path in it.
    filter = formatFilterSpec({ ...spec, ref: path.resolve(baseDir, spec.ref) });
  }
  const logpaths = s.stringList('logpath')?.map(({ value, path: at }) => ({ file: path.resolve(baseDir, value), at }));
  const logpath = logpaths?.map((l) => l.file);
  const journal = readJournal(s, baseDir);
  if (logpath === undefined && journal === null) {
    s.fail(undefined, 'missing key "logpath" or "journalmatch" (e.g. logpath = ["/var/log/mail.log"], or journalmatch = ["_SYSTEMD_UNIT=postfix@-.service"])', 'config.missingKey');
  }
  if (logpath !== undefined && logpath.length === 0) s.fail('logpath', 'must list at least one file');
  // Like filters and actions, only an enabled jail's files must be usable here.
  for (const l of enabled ? (logpaths ?? []) : []) {
    const problem = logpathProblem(l.file);
    if (problem !== undefined) throw configError(s.src, l.at, problem, 'config.badLogpath');
  }

  const settings = merge(inherited, readSettings(s));
  const policy = buildPolicy(s.src, name, settings, settings.ignoreSelf!.value ? (opts.selfAddresses ?? machineAddresses)() : []);
  const ignoreCommand = readIgnoreSpec(s.src, settings, enabled);
  const actions = settings.actions!;
  if (actions.value.length === 0) throw configError(s.src, actions.at, 'must name at least one action (use "dry-run" to only log)');

  const jail: JailConfig = {
    name,
    enabled,
    filter,
    logpath: logpath ?? [],
    journal,
    actions: actions.value.map((a) => a.name),
    ports: settings.ports!.value,
    protocol: settings.protocol!.value,
    policy,
    ignoreCommand,
  };
  if (!enabled) return jail; // Disabled jails may name filters or actions that are not installed here.
  const filterAt: KeyPath = s.has('filter') ? [...s.path, 'filter'] : s.path;
  if (opts.buildJail) {
    const problem = opts.buildJail(jail, pban);
    if (problem !== undefined) {
      // A built-in default action has no line of its own: blame the jail.
      const at: KeyPath = problem.key === 'filter' ? filterAt : (actions.value[problem.index]?.at ?? HERE);
      throw configError(s.src, at.length > 0 ? at : s.path, problem.message, problem.key === 'filter' ? 'config.badFilter' : 'config.badAction');
    }
    return jail;
  }
  const filterProblem = (opts.checkFilter ?? defaultCheckFilter)(filter);
  if (filterProblem !== undefined) s.fail(s.has('filter') ? 'filter' : undefined, filterProblem, 'config.badFilter');
  for (const action of actions.value) {
    const problem = opts.checkAction?.(action.name);
    if (problem !== undefined) throw configError(s.src, action.at.length > 0 ? action.at : s.path, problem, 'config.badAction');
  }
  return jail;
}

/** The jail's ignore command, or null; its program must be there when the jail is enabled. */
function readIgnoreSpec(src: ConfigSource, st: Settings, enabled: boolean): IgnoreCommandSpec | null {
  const cmd = st.ignoreCommand!;
  if (cmd.value.length === 0) return null;
  const program = cmd.value[0]!;
  if (enabled && findProgram(program) === undefined) throw configError(src, cmd.at, `ignorecommand: program "${program}" not found or not executable`);
  return { argv: cmd.value, timeoutMs: st.ignoreTimeout!.value, cacheMs: st.ignoreCache!.value };
}

/**
 * A jail with `source = "bans"` (recidive.ts): no filter, no log; it counts addresses only (no
 * subnet rule) and bans on every port unless the jail itself names ports.
 */
function readBansJail(s: Section, name: string, inherited: Settings, opts: LoadOptions, pban: DaemonConfig, enabled: boolean): JailConfig {
  for (const key of ['filter', 'logpath', 'journalmatch', 'journal_directory']) {
    if (s.has(key)) s.fail(key, `a jail with source = "bans" reads no log: it counts the bans of the other jails (remove ${key})`);
  }
  const own = readSettings(s);
  if (own.netEnabled?.value === true) throw configError(s.src, own.netEnabled.at, 'a jail with source = "bans" counts addresses only (no subnet rule)');
  const settings = merge(inherited, own);
  const base = buildPolicy(s.src, name, settings, settings.ignoreSelf!.value ? (opts.selfAddresses ?? machineAddresses)() : []);
  const policy: JailPolicy = { ...base, subnet: { ...base.subnet, enabled: false } };
  const actions = settings.actions!;
  if (actions.value.length === 0) throw configError(s.src, actions.at, 'must name at least one action (use "dry-run" to only log)');
  const jail: JailConfig = {
    name,
    enabled,
    source: BANS_SOURCE,
    filter: BANS_FILTER.name,
    logpath: [],
    journal: null,
    actions: actions.value.map((a) => a.name),
    // A repeat offender is blocked on every port, whatever the mail jails block.
    ports: own.ports?.value ?? 'all',
    protocol: settings.protocol!.value,
    policy,
    // it counts bans, which no ignore command judges
    ignoreCommand: null,
  };
  if (!enabled || !opts.buildJail) return jail;
  const problem = opts.buildJail(jail, pban);
  if (problem !== undefined) {
    const at = problem.key === 'action' ? (actions.value[problem.index]?.at ?? HERE) : HERE;
    throw configError(s.src, at.length > 0 ? at : s.path, problem.message, problem.key === 'filter' ? 'config.badFilter' : 'config.badAction');
  }
  return jail;
}

/**
 * `journalmatch`: journalctl matches, as fail2ban names them: an array with one match per element,
 * or fail2ban's one string of space-separated matches. "+" between two matches means OR.
 */
function readJournal(s: Section, baseDir: string): JailJournal | null {
  const raw = s.stringList('journalmatch');
  const dir = s.string('journal_directory');
  if (raw === undefined) {
    if (dir !== undefined) s.fail('journal_directory', 'only applies with journalmatch (the journal is read only for jails that set it)');
    return null;
  }
  const matches = raw.flatMap(({ value, path: at }) => value.split(/\s+/).filter(Boolean).map((m) => ({ m, at })));
  if (matches.length === 0) s.fail('journalmatch', 'must list at least one match (e.g. "_SYSTEMD_UNIT=postfix@-.service")');
  matches.forEach(({ m, at }, i) => {
    const problem = checkJournalMatch(m);
    if (problem !== undefined) throw configError(s.src, at, problem);
    if (m === '+' && (i === 0 || i === matches.length - 1 || matches[i - 1]?.m === '+')) {
      throw configError(s.src, at, '"+" (OR) must stand between two matches');
    }
  });
  return { matches: matches.map(({ m }) => m), directory: dir === undefined ? undefined : path.resolve(baseDir, dir) };
}

/**
 * The machine's own addresses, as its interfaces have them now (`ignoreself`). Read at every
 * load, so at start and at each reload.
 */
export function machineAddresses(): Target[] {
  const out: Target[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const i of list ?? []) {
      // A link-local IPv6 address carries a zone (fe80::1%eth0); no log line holds one.
      const t = parseTarget(i.address.replace(/%.*$/, ''));
      if (!('error' in t)) out.push(t);
    }
  }
  return out;
}

function buildPolicy(src: ConfigSource, name: string, st: Settings, self: readonly Target[]): JailPolicy {
  const need = <T>(v: Located<T> | undefined): Located<T> => v!;
  const bantime = need(st.bantime);
  const maxtime = need(st.incMaxtime);
  const increment: IncrementPolicy = {
    enabled: need(st.incEnabled).value,
    factor: need(st.incFactor).value,
    maxtime: maxtime.value,
    remember: st.incRemember ? (st.incRemember.value ?? FOREVER) : (maxtime.value ?? FOREVER),
  };
  if (increment.enabled && maxtime.value !== null && bantime.value !== null && maxtime.value < bantime.value) {
    const at = later(src, maxtime, bantime);
    throw configError(src, at.at, `bantime_increment.maxtime (${formatDuration(maxtime.value)}) is shorter than bantime (${formatDuration(bantime.value)})`);
  }
  const netMax = need(st.netMaxretry);
  const netMin = need(st.netMinAddresses);
  const subnet: SubnetPolicy = {
    enabled: need(st.netEnabled).value,
    ipv4Prefix: need(st.netIpv4Prefix).value,
    ipv6Prefix: need(st.netIpv6Prefix).value,
    maxretry: netMax.value,
    minAddresses: netMin.value,
    bantime: need(st.netBantime).value,
  };
  if (subnet.enabled && subnet.minAddresses > subnet.maxretry) {
    const at = later(src, netMin, netMax);
    throw configError(src, at.at, `subnet.min_addresses (${subnet.minAddresses}) is greater than subnet.maxretry (${subnet.maxretry}), so no network could ever be banned`);
  }
  const policy: JailPolicy = {
    name,
    findtime: need(st.findtime).value,
    maxretry: need(st.maxretry).value,
    bantime: bantime.value,
    increment,
    subnet,
    ignore: need(st.ignore).value,
    allowNames: need(st.allowNames).value,
    self,
  };
  // The engine owns what a valid policy is; here its verdict gets the line of the key.
  const problem = policyProblems(policy)[0];
  if (problem) {
    const where: Record<PolicyProblem['key'], Located<unknown> | undefined> = {
      findtime: st.findtime, maxretry: st.maxretry, bantime: st.bantime, 'bantime_increment.factor': st.incFactor,
      'subnet.ipv4_prefix': st.netIpv4Prefix, 'subnet.ipv6_prefix': st.netIpv6Prefix, 'subnet.maxretry': st.netMaxretry,
      'subnet.min_addresses': st.netMinAddresses, 'subnet.bantime': st.netBantime,
    };
    const at = where[problem.key]?.at ?? HERE;
    throw configError(src, at.length > 0 ? at : ['jails', name], at.length > 0 ? problem.message : `${problem.key} ${problem.message}`);
  }
  return policy;
}

/** Of two settings, the one written further down the file (the more specific, usually). */
function later<A, B>(src: ConfigSource, a: Located<A>, b: Located<B>): Located<A> | Located<B> {
  return (src.lines.lineOf(a.at) ?? 0) >= (src.lines.lineOf(b.at) ?? 0) ? a : b;
}

/**
 * Why a logpath cannot be followed, or undefined. A missing file is fine (it may come with the
 * first mail; the daemon warns), and a glob's matches are checked as they appear (the follower
 * takes regular files only). A FIFO would block the reader, a device never ends, a directory
 * has no lines: each is refused here, so `pban check` and `pban start` say so at once.
 */
function logpathProblem(file: string): string | undefined {
  if (hasGlob(file)) return undefined;
  let st;
  try {
    st = statSync(file);
  } catch {
    return undefined;
  }
  const why = notRegular(st);
  return why === undefined ? undefined : `${file} ${why}: a logpath must name log files`;
}

/** Without a caller's check: the spec parses and names a shipped filter or an existing file. */
function defaultCheckFilter(spec: string): string | undefined {
  const parsed = parseFilterSpec(spec);
  if ('error' in parsed) return parsed.error;
  if (parsed.isPath) return existsSync(parsed.ref) ? undefined : `filter file not found: ${parsed.ref}`;
  if (existsSync(path.join(FILTERS_DIR, `${parsed.ref}.toml`))) return undefined;
  let shipped: string[] = [];
  try {
    shipped = readdirSync(FILTERS_DIR).filter((f) => f.endsWith('.toml')).map((f) => f.slice(0, -5));
  } catch {
    // no shipped filters directory: say so through the empty list
  }
  return `unknown filter "${parsed.ref}" (shipped filters: ${shipped.length > 0 ? shipped.sort().join(', ') : 'none found'})`;
}
