// The pban command line. Each command lives in its own file and exports a factory that
// returns a commander Command; this file only assembles them and turns errors into exit codes.
import { Command, CommanderError } from 'commander';
import { PbanError } from '../errors.js';
import { VERSION } from '../version.js';

// Commands are registered here, one line each, and loaded on demand: a run that names a
// command imports only that command's module, so `pban test-filter` does not pay at start
// for the control client, the daemon and the rest. Help without a command loads them all.
const COMMANDS: readonly (readonly [name: string, load: () => Promise<Command>])[] = [
  ['status', async () => (await import('./status.js')).statusCommand()],
  ['banned', async () => (await import('./banned.js')).bannedCommand()],
  ['ban', async () => (await import('./ban.js')).banCommand()],
  ['unban', async () => (await import('./unban.js')).unbanCommand()],
  ['why', async () => (await import('./why.js')).whyCommand()],
  ['reload', async () => (await import('./reload.js')).reloadCommand()],
  ['stop', async () => (await import('./stop.js')).stopCommand()],
  ['version', async () => (await import('./version.js')).versionCommand()],
  ['test-filter', async () => (await import('./test-filter.js')).testFilterCommand()],
  ['replay', async () => (await import('./replay.js')).replayCommand()],
  ['report', async () => (await import('./report.js')).reportCommand()],
  ['import', async () => (await import('./import.js')).importCommand()],
  ['start', async () => (await import('./start.js')).startCommand()],
  ['check', async () => (await import('./check.js')).checkCommand()],
  ['queue', async () => (await import('./queue.js')).queueCommand()],
  ['completion', async () => (await import('./completion.js')).completionCommand()],
];

/** `argv` as in process.argv; its command word (argv[2]) decides which commands are loaded. */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('pban')
    .description('Ban engine for mail servers: follows the Postfix log, counts failures per address and per network, bans through the firewall.')
    .version(VERSION, '-V, --version');
  const named = COMMANDS.filter(([name]) => name === argv[2]);
  const wanted = await Promise.all((named.length > 0 ? named : COMMANDS).map(([, load]) => load()));
  for (const command of wanted) program.addCommand(command);
  // addCommand passes none of the program's settings on: without exitOverride a sub-command's
  // usage mistake makes commander exit 1 by itself, instead of throwing for main() to exit 2.
  // The "--help" hint joins the error's line (instead of a line of its own) on every command.
  forEachCommand(program, (cmd) => cmd.exitOverride().showHelpAfterError(false).configureOutput({ outputError: usageErrorLine }));
  return program;
}

function forEachCommand(cmd: Command, fn: (cmd: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) forEachCommand(sub, fn);
}

/** A usage mistake is one line, suggestion ("Did you mean …?") and hint included. */
function usageErrorLine(message: string, write: (str: string) => void): void {
  write(`${message.trim().replace(/\s*\n\s*/g, ' ')} (run with --help for usage)\n`);
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
    await (await buildProgram(argv)).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}
