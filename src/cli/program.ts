// The pban command line. Each command lives in its own file and exports a factory that
// returns a commander Command; this file only assembles them and turns errors into exit codes.
import { Command, CommanderError } from 'commander';
import { PbanError } from '../errors.js';
import { VERSION } from '../version.js';
import { statusCommand } from './status.js';
import { bannedCommand } from './banned.js';
import { banCommand } from './ban.js';
import { unbanCommand } from './unban.js';
import { reloadCommand } from './reload.js';
import { stopCommand } from './stop.js';
import { versionCommand } from './version.js';
import { testFilterCommand } from './test-filter.js';
import { replayCommand } from './replay.js';
import { startCommand } from './start.js';

export function buildProgram(): Command {
  const program = new Command('pban')
    .description('Ban engine for mail servers: follows the Postfix log, counts failures per address and per network, bans through the firewall.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // Commands are registered here, one line each.
  program.addCommand(statusCommand());
  program.addCommand(bannedCommand());
  program.addCommand(banCommand());
  program.addCommand(unbanCommand());
  program.addCommand(reloadCommand());
  program.addCommand(stopCommand());
  program.addCommand(versionCommand());
  program.addCommand(testFilterCommand());
  program.addCommand(replayCommand());
  program.addCommand(startCommand());
  return program;
}

/** Prints a PbanError as one line and anything else as a bug with its stack. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message; --help and --version exit 0.
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof PbanError) {
    process.stderr.write(`pban: ${err.message}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`pban: internal error (this is a bug, please report it): ${e?.stack ?? String(err)}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}
