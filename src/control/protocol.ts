// The control protocol: one table of commands, shared by the server's dispatch and the CLI's
// help, and the wire format. A connection carries exactly one request line and one reply line:
//
//   → {"v":1,"cmd":"ban","args":{"jail":"postfix","target":"192.0.2.1"}}\n
//   ← {"v":1,"ok":true,"data":{…}}\n            or
//   ← {"v":1,"ok":false,"error":{"code":"jail.unknown","message":"…"}}\n
//
// This module does no I/O: it validates and encodes, so both ends (and the tests) agree on
// every byte. Anything the peer sends is untrusted until validateRequest() accepts it.

export const PROTOCOL_VERSION = 1;

/** A request line longer than this is refused: every legitimate request is tiny. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** Default location of the control socket (owned by src/daemon-paths.ts). */
export { DEFAULT_SOCKET } from '../daemon-paths.js';

type ParamType = 'string' | 'string[]' | 'boolean' | 'duration';

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly required: boolean;
  readonly help: string;
}

export interface CommandSpec {
  readonly name: CommandName;
  /** One line, shown in `pban --help` and as the first line of `pban CMD --help`. */
  readonly summary: string;
  readonly params: readonly ParamSpec[];
  /** `pban CMD --help` shows these under "Examples:". */
  readonly examples: readonly string[];
  /** Reading commands have `--json`. */
  readonly reads: boolean;
}

/** What each command takes on the wire. Durations are milliseconds; null means permanent. */
export interface CommandArgs {
  status: { jail?: string };
  banned: { jail?: string };
  ban: { jail: string; target: string; timeMs?: number | null };
  unban: { targets?: string[]; all?: boolean; jail?: string };
  why: { target: string };
  reload: { liftRemoved?: boolean };
  stop: Record<string, never>;
  version: Record<string, never>;
}

export type CommandName = keyof CommandArgs;

const p = (name: string, type: ParamType, required: boolean, help: string): ParamSpec => ({ name, type, required, help });

export const COMMANDS: { readonly [K in CommandName]: CommandSpec & { readonly name: K } } = {
  status: {
    name: 'status',
    summary: 'show every jail, the daemon and its actions; or one jail as a tree',
    params: [p('jail', 'string', false, 'show only this jail, fail2ban style')],
    examples: ['pban status', 'pban status postfix', 'pban status --json | jq .jails[].currentlyBanned'],
    reads: true,
  },
  banned: {
    name: 'banned',
    summary: 'list the active bans: target, jail, kind, failures, when banned, when it expires',
    params: [p('jail', 'string', false, 'list only the bans of this jail')],
    examples: ['pban banned', 'pban banned postfix-sasl', "pban banned --json | jq -r '.[].target'"],
    reads: true,
  },
  ban: {
    name: 'ban',
    summary: 'ban an address or a network in a jail',
    params: [
      p('jail', 'string', true, 'the jail that holds the ban'),
      p('target', 'string', true, 'an IPv4/IPv6 address or a CIDR network'),
      p('timeMs', 'duration', false, "ban duration in ms, null for permanent; absent: the jail's bantime"),
    ],
    examples: ['pban ban postfix 192.0.2.1', 'pban ban postfix 2001:db8::/64 --time 2h', 'pban ban postfix 198.51.100.0/24 --time permanent'],
    reads: false,
  },
  unban: {
    name: 'unban',
    summary: 'lift bans on addresses or networks, or all bans',
    params: [
      p('targets', 'string[]', false, 'addresses or CIDR networks to unban'),
      p('all', 'boolean', false, 'lift every ban (of one jail with jail)'),
      p('jail', 'string', false, 'only in this jail'),
    ],
    examples: ['pban unban 192.0.2.1', 'pban unban 192.0.2.1 2001:db8::/64 --jail postfix', 'pban unban --all', 'pban unban --all --jail postfix-sasl'],
    reads: false,
  },
  why: {
    name: 'why',
    summary: 'why is an address blocked: every active ban that covers it (networks too), with the lines behind it',
    params: [p('target', 'string', true, 'an IPv4/IPv6 address or a CIDR network')],
    examples: ['pban why 192.0.2.15', 'pban why 2001:db8::1 --json'],
    reads: true,
  },
  reload: {
    name: 'reload',
    summary: 'reread the config; keeps windows and bans, refuses an invalid config; a removed jail keeps its manual and permanent bans',
    params: [p('liftRemoved', 'boolean', false, 'also lift the manual and permanent bans of jails no longer in the config')],
    examples: ['pban reload', 'pban reload --lift-removed'],
    reads: false,
  },
  stop: {
    name: 'stop',
    summary: 'stop the daemon (bans stay in the store and are restored at the next start)',
    params: [],
    examples: ['pban stop'],
    reads: false,
  },
  version: {
    name: 'version',
    summary: 'show the version of this command and of the running daemon',
    params: [],
    examples: ['pban version', 'pban version --json'],
    reads: true,
  },
};

export interface Request<K extends CommandName = CommandName> {
  readonly v: typeof PROTOCOL_VERSION;
  readonly cmd: K;
  readonly args: CommandArgs[K];
}

export interface WireError {
  readonly code: string;
  readonly message: string;
}

export type Reply<T = unknown> =
  | { readonly v: typeof PROTOCOL_VERSION; readonly ok: true; readonly data: T }
  | { readonly v: typeof PROTOCOL_VERSION; readonly ok: false; readonly error: WireError };

export function isCommandName(s: unknown): s is CommandName {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(COMMANDS, s);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function checkParam(spec: ParamSpec, value: unknown): string | null {
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' && value.length > 0 && value.length <= 256 ? null : 'a non-empty string';
    case 'string[]':
      return Array.isArray(value) && value.length <= 10_000 && value.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 256)
        ? null
        : 'a list of strings';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'true or false';
    case 'duration':
      return value === null || (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) ? null : 'a positive number of ms or null';
  }
}

/** Checks an already-parsed JSON value is a request we understand, down to each argument's type. */
export function validateRequest(raw: unknown): Request | { error: WireError } {
  const bad = (code: string, message: string): { error: WireError } => ({ error: { code, message } });
  if (!isPlainObject(raw)) return bad('request.invalid', 'a request is a JSON object');
  if (raw['v'] !== PROTOCOL_VERSION) {
    return bad('request.version', `unsupported protocol version ${JSON.stringify(raw['v'])} (this daemon speaks ${PROTOCOL_VERSION})`);
  }
  const cmd = raw['cmd'];
  if (!isCommandName(cmd)) return bad('request.unknownCommand', `unknown command ${JSON.stringify(cmd)}`);
  const args = raw['args'] ?? {};
  if (!isPlainObject(args)) return bad('request.invalidArgs', `${cmd}: args must be an object`);
  const spec = COMMANDS[cmd];
  for (const key of Object.keys(args)) {
    if (!spec.params.some((q) => q.name === key)) return bad('request.invalidArgs', `${cmd}: unknown argument "${key}"`);
  }
  for (const param of spec.params) {
    const value = args[param.name];
    if (value === undefined) {
      if (param.required) return bad('request.invalidArgs', `${cmd}: missing argument "${param.name}"`);
      continue;
    }
    const expected = checkParam(param, value);
    if (expected) return bad('request.invalidArgs', `${cmd}: argument "${param.name}" must be ${expected}`);
  }
  if (cmd === 'unban') {
    const hasTargets = Array.isArray(args['targets']) && args['targets'].length > 0;
    if (hasTargets === (args['all'] === true)) return bad('request.invalidArgs', 'unban: give either targets or all, not both or neither');
  }
  return { v: PROTOCOL_VERSION, cmd, args } as Request;
}

/** Parses one request line; never throws. */
export function parseRequestLine(line: string): Request | { error: WireError } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { error: { code: 'request.invalidJson', message: 'the request is not valid JSON' } };
  }
  return validateRequest(raw);
}

export function encodeRequest<K extends CommandName>(cmd: K, args: CommandArgs[K]): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, cmd, args }) + '\n';
}

export function encodeError(code: string, message: string): string {
  return JSON.stringify({ v: PROTOCOL_VERSION, ok: false, error: { code, message } }) + '\n';
}

/** The fixed text in front of a success reply's data; the client uses it to pass data through unparsed. */
export const OK_PREFIX = `{"v":${PROTOCOL_VERSION},"ok":true,"data":`;
export const OK_SUFFIX = '}\n';

/** Parses a reply; a malformed one becomes an error reply, so callers handle one shape. */
export function parseReply(text: string): Reply {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { v: PROTOCOL_VERSION, ok: false, error: { code: 'reply.invalidJson', message: 'the daemon sent a reply that is not valid JSON' } };
  }
  if (!isPlainObject(raw) || raw['v'] !== PROTOCOL_VERSION || typeof raw['ok'] !== 'boolean') {
    return { v: PROTOCOL_VERSION, ok: false, error: { code: 'reply.invalid', message: 'the daemon sent a reply this pban does not understand (version mismatch?)' } };
  }
  if (raw['ok']) return { v: PROTOCOL_VERSION, ok: true, data: raw['data'] };
  const e = raw['error'];
  const code = isPlainObject(e) && typeof e['code'] === 'string' ? e['code'] : 'reply.invalid';
  const message = isPlainObject(e) && typeof e['message'] === 'string' ? e['message'] : 'the daemon reported an error without a message';
  return { v: PROTOCOL_VERSION, ok: false, error: { code, message } };
}
