// The one place that starts firewall programs. Argument arrays only, never a shell: a target
// comes from an attacker-controlled log line, so no text of it may ever be parsed by sh.
import { spawn } from 'node:child_process';

export interface CommandResult {
  /** Exit status; null when the program could not start or was killed. */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Executor {
  run(argv: readonly string[], stdin?: string): Promise<CommandResult>;
}

export interface SpawnExecutorOptions {
  /** Kill a command that runs longer than this (ms). */
  readonly timeoutMs?: number;
}

/** Runs commands with child_process.spawn. */
export class SpawnExecutor implements Executor {
  constructor(private readonly opts: SpawnExecutorOptions = {}) {}

  run(argv: readonly string[], stdin?: string): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (file === undefined) return Promise.resolve({ status: null, stdout: '', stderr: 'empty command' });
    return new Promise((resolve) => {
      const child = spawn(file, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
        timeout: this.opts.timeoutMs ?? 60_000,
        env: { ...process.env, LC_ALL: 'C' },
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let spawnError: Error | undefined;
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        spawnError = e;
      });
      // a program that exits before reading all of stdin must not crash us with EPIPE
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin ?? '');
      child.on('close', (code, signal) => {
        const stderr = Buffer.concat(err).toString('utf8');
        resolve({
          status: spawnError ? null : code,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: spawnError ? `${file}: ${spawnError.message}` : signal ? `${stderr}killed by ${signal}` : stderr,
        });
      });
    });
  }
}

/** Records every command and succeeds: the dry-run action, and unit tests of the runner. */
export class RecordingExecutor implements Executor {
  readonly calls: { argv: readonly string[]; stdin: string | undefined }[] = [];
  constructor(private readonly respond: (argv: readonly string[], stdin?: string) => CommandResult = () => ({ status: 0, stdout: '', stderr: '' })) {}

  run(argv: readonly string[], stdin?: string): Promise<CommandResult> {
    this.calls.push({ argv, stdin });
    return Promise.resolve(this.respond(argv, stdin));
  }
}
