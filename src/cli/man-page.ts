// pban(1), in roff, from the command tree (command-tree.ts): every command, argument and option
// of the man page is the one `--help` prints. scripts/build-man.mjs writes it at build time
// (npm run build, npm ci, npm pack); package.json's "man" installs it with the package.
import type { CommandInfo } from './command-tree.js';

export interface ManPageFacts {
  readonly version: string;
  readonly defaultConfig: string;
  readonly defaultSocket: string;
  readonly defaultDatabase: string;
}

/** Text for roff: backslashes escaped, and no line may start with a control character. */
function text(s: string): string {
  return s
    .replace(/\\/g, '\\e')
    .split('\n')
    .map((l) => (/^[.']/.test(l) ? `\\&${l}` : l))
    .join('\n');
}

/** Literal command-line text: also a real minus sign, so it can be searched for and copied. */
function code(s: string): string {
  return text(s).replace(/-/g, '\\-');
}

function items(entries: readonly { term: string; description: string }[]): string[] {
  return entries.flatMap((e) => ['.TP', `.B ${code(e.term)}`, text(e.description)]);
}

function preformatted(block: string): string[] {
  return ['.PP', '.RS 4', '.nf', code(block), '.fi', '.RE'];
}

function commandSection(cmd: CommandInfo): string[] {
  const out = ['.SS ' + code(cmd.usage.replace(/^pban /, '')), text(cmd.description)];
  if (cmd.arguments.length > 0) out.push('.PP', 'Arguments:', '.RS 4', ...items(cmd.arguments), '.RE');
  if (cmd.options.length > 0) out.push('.PP', 'Options:', '.RS 4', ...items(cmd.options.map((o) => ({ term: o.flags, description: o.description }))), '.RE');
  if (cmd.after) out.push(...preformatted(cmd.after));
  return out;
}

export function renderManPage(program: CommandInfo, facts: ManPageFacts): string {
  const commands = program.commands.filter((c) => c.name !== 'help');
  const lines = [
    `.\\" pban(1), generated from the command line's own help by scripts/build-man.mjs. Do not edit.`,
    `.TH PBAN 1 "" "pban ${facts.version}" "User Commands"`,
    '.SH NAME',
    `pban \\- ${text(program.description.replace(/\.$/, '').replace(/^./, (c) => c.toLowerCase()))}`,
    '.SH SYNOPSIS',
    `.B pban`,
    '.I command',
    '[\\fIoptions\\fR] [\\fIarguments\\fR]',
    '.br',
    '.B pban \\-\\-version',
    '.br',
    '.B pban',
    '.I command',
    '.B \\-\\-help',
    '.SH DESCRIPTION',
    text(program.description),
    '.PP',
    'pban follows log files (or the systemd journal), matches each line against anchored regular',
    'expression filters, counts failures per address and per network in a sliding window kept in',
    'SQLite, and bans offenders through nftables, iptables or ipset until the ban expires.',
    '.B pban start',
    'is the daemon; the other commands talk to it over its control socket, or work offline',
    `(\\fBtest\\-filter\\fR, \\fBreplay\\fR, \\fBcheck\\fR, \\fBcompletion\\fR).`,
    '.SH OPTIONS',
    '.RS 0',
    ...items(program.options.map((o) => ({ term: o.flags, description: o.description }))),
    '.RE',
    '.SH COMMANDS',
    ...commands.flatMap(commandSection),
    '.SH EXIT STATUS',
    '.TP',
    '.B 0',
    'Success.',
    '.TP',
    '.B 1',
    'An error: one line on standard error, "pban: <file>:<line>: <what>" where a file is at fault.',
    '.TP',
    '.B 2',
    'A usage mistake (unknown command or option, missing argument).',
    '.SH FILES',
    '.TP',
    `.I ${code(facts.defaultConfig)}`,
    'The configuration (TOML): jails, filters, actions, windows and ban times. See',
    '.B pban check',
    'and the example configuration shipped with the package.',
    '.TP',
    `.I ${code(facts.defaultDatabase)}`,
    'The store (SQLite): failures inside the window, bans and their history, log positions.',
    '.TP',
    `.I ${code(facts.defaultSocket)}`,
    'The control socket (mode 0600, root only) that status, banned, ban, unban, reload, stop and',
    'version use.',
    '.SH SEE ALSO',
    '.BR nft (8),',
    '.BR iptables (8),',
    '.BR ipset (8),',
    '.BR journalctl (1),',
    '.BR logrotate (8),',
    '.BR systemd.service (5)',
  ];
  return lines.join('\n') + '\n';
}

/** The man page of this build: the whole program, all commands loaded. */
export async function manPage(): Promise<string> {
  const [{ buildProgram }, { programInfo }, { BUILTIN_DAEMON }, { VERSION }, { DEFAULT_CONFIG }] = await Promise.all([
    import('./program.js'),
    import('./command-tree.js'),
    import('../config/index.js'),
    import('../version.js'),
    import('./socket-path.js'),
  ]);
  return renderManPage(programInfo(await buildProgram()), {
    version: VERSION,
    defaultConfig: DEFAULT_CONFIG,
    defaultSocket: BUILTIN_DAEMON.socket,
    defaultDatabase: BUILTIN_DAEMON.database,
  });
}
