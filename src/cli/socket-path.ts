// Where the daemon's control socket is, as every command that talks to it decides: --socket,
// else `[pban] socket` in the config file (-c, default /etc/pban/pban.toml), else the default.
// Only that one key is read, with smol-toml directly (loaded only when there is a file to
// read), so these commands start fast and work whatever else the config holds. The value is
// resolved by src/daemon-paths.ts, as the daemon resolves it: a relative path is relative to the
// config file's directory.
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ConfigError } from '../errors.js';
import { describeFileError, readSmallTextFile } from '../files.js';
import { COMMANDS, type CommandName } from '../control/protocol.js';
import type { ClientOptions } from '../control/client.js';
import { DEFAULT_CONFIG, DEFAULT_SOCKET, socketFromConfig } from '../daemon-paths.js';

export { DEFAULT_CONFIG };

export interface ConnectionFlags {
  config: string;
  socket?: string;
  /** True when -c was given: a missing file is then an error, not a fallback. */
  configGiven?: boolean;
}

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Reads `[pban] socket` from a config file, as written; undefined when the file or the key is absent. */
export async function readSocketFromConfig(file: string, mustExist: boolean): Promise<string | undefined> {
  let text: string;
  try {
    text = readSmallTextFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !mustExist) return undefined;
    throw new ConfigError('config.unreadable', file, undefined, `cannot read config: ${describeFileError(e)}`);
  }
  const { parse } = await import('smol-toml');
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    const err = e as Error & { line?: number };
    throw new ConfigError('config.syntax', file, err.line, (err.message.split('\n')[0] ?? 'invalid TOML').replace(/^Invalid TOML document: /, ''));
  }
  const section = doc['pban'];
  if (section === undefined) return undefined;
  const socket = (section as Record<string, unknown>)['socket'];
  if (socket === undefined) return undefined;
  if (typeof socket !== 'string' || socket === '') {
    const at = text.search(/^[ \t]*socket[ \t]*=/m);
    throw new ConfigError('config.type', file, at < 0 ? undefined : lineOf(text, at), 'pban.socket: expected a path string');
  }
  return socket;
}

/** The absolute path of the control socket. */
export async function resolveSocketPath(flags: ConnectionFlags): Promise<string> {
  // A path on the command line is relative to where the command runs, like any other.
  if (flags.socket) return path.resolve(flags.socket);
  return socketFromConfig(flags.config, await readSocketFromConfig(flags.config, flags.configGiven === true));
}

export async function clientOptions(cmd: Command): Promise<ClientOptions> {
  const o = cmd.opts<{ config: string; socket?: string }>();
  return { socketPath: await resolveSocketPath({ config: o.config, socket: o.socket, configGiven: cmd.getOptionValueSource('config') === 'cli' }) };
}

/**
 * A command that talks to the daemon: its summary and examples come from the protocol's
 * command table, and it takes -c/--socket (and --json when it reads). Sub-commands do not
 * inherit the program's settings in commander, so usage errors are routed to exit 2 here too.
 */
export function daemonCommand(name: CommandName): Command {
  const spec = COMMANDS[name];
  const cmd = new Command(name)
    .description(spec.summary)
    .addOption(new Option('-c, --config <file>', 'config file to read the socket path from').default(DEFAULT_CONFIG))
    .option('--socket <path>', `control socket (overrides the config; default ${DEFAULT_SOCKET})`)
    .addHelpText('after', '\nExamples:\n' + spec.examples.map((e) => `  $ ${e}`).join('\n') + '\n');
  if (spec.reads) cmd.option('--json', 'print the reply as JSON (stable, see docs/cli.md)');
  return cmd;
}
