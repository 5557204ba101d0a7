// The one place that starts firewall programs. Argument arrays only, never a shell: a target
// comes from an attacker-controlled log line, so no text of it may ever be parsed by sh.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CommandResult {
  /** Exit status; null when the program could not start or was killed. */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Kill the command after this long (ms); default: the executor's. */
  readonly timeoutMs?: number;
  /** Kill the command when this aborts (the action is stopping). */
  readonly signal?: AbortSignal;
}

export interface Executor {
  run(argv: readonly string[], stdin?: string, opts?: RunOptions): Promise<CommandResult>;
}

export interface SpawnExecutorOptions {
  /** Kill a command that runs longer than this (ms); default 30 s. */
  readonly timeoutMs?: number;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

/**
 * Input larger than this goes to the program as a file, not through a pipe: a pipe holds 64 KiB,
 * so the rest is written a chunk per event-loop turn, and with the loop busy (a restart that
 * restores 100,000 bans while nft loads them) nft waited seconds for its script.
 */
const STDIN_FILE_ABOVE = 64 * 1024;

/**
 * `text` in an unlinked file only we could open (0600, in a fresh 0700 directory), opened for
 * reading from its start: the program reads it at its own pace, whatever our event loop does.
 */
function stdinFile(text: string): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-stdin-'));
  try {
    const file = path.join(dir, 'stdin');
    const w = openSync(file, 'wx', 0o600);
    try {
      const buf = Buffer.from(text, 'utf8');
      for (let off = 0; off < buf.length; ) off += writeSync(w, buf, off);
    } finally {
      closeSync(w);
    }
    return openSync(file, 'r');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs commands with child_process.spawn. */
export class SpawnExecutor implements Executor {
  constructor(private readonly opts: SpawnExecutorOptions = {}) {}

  run(argv: readonly string[], stdin?: string, opts: RunOptions = {}): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (file === undefined) return Promise.resolve({ status: null, stdout: '', stderr: 'empty command' });
    if (opts.signal?.aborted) return Promise.resolve({ status: null, stdout: '', stderr: `${file}: not run: the action is stopping` });
    return new Promise((resolve) => {
      // Our own timer rather than spawn's `timeout`: Node arms that one even when the program
      // cannot start (ENOENT) and never clears it, which kept a stopping daemon alive for a minute.
      let input: number | undefined;
      try {
        input = stdin !== undefined && stdin.length > STDIN_FILE_ABOVE ? stdinFile(stdin) : undefined;
      } catch {
        input = undefined; // no temp space: the pipe still works, only slower
      }
      let child;
      try {
        child = spawn(file, args, { stdio: [input ?? 'pipe', 'pipe', 'pipe'], shell: false, env: { ...process.env, LC_ALL: 'C' } });
      } finally {
        // the child has its own copy of the descriptor (or never started): ours is not needed
        if (input !== undefined) closeSync(input);
      }
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let spawnError: Error | undefined;
      let killedFor: string | undefined;
      const kill = (why: string) => {
        killedFor ??= why;
        child.kill('SIGKILL');
      };
      const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
      const timer = setTimeout(() => kill(`timed out after ${timeoutMs} ms`), timeoutMs);
      timer.unref();
      const onAbort = () => kill('the action is stopping');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.stdout?.on('data', (b: Buffer) => out.push(b));
      child.stderr?.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        spawnError = e;
      });
      // a program that exits before reading all of stdin must not crash us with EPIPE
      if (child.stdin) {
        child.stdin.on('error', () => undefined);
        child.stdin.end(stdin ?? '');
      }
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        const stderr = Buffer.concat(err).toString('utf8');
        resolve({
          status: spawnError || killedFor ? null : code,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: spawnError ? `${file}: ${spawnError.message}` : killedFor ? `${stderr}${file}: killed: ${killedFor}` : signal ? `${stderr}killed by ${signal}` : stderr,
        });
      });
    });
  }
}

/** Records every command and succeeds: the dry-run action, and unit tests of the runner. */
export class RecordingExecutor implements Executor {
  readonly calls: { argv: readonly string[]; stdin: string | undefined }[] = [];
  constructor(private readonly respond: (argv: readonly string[], stdin?: string) => CommandResult | Promise<CommandResult> = () => ({ status: 0, stdout: '', stderr: '' })) {}

  run(argv: readonly string[], stdin?: string): Promise<CommandResult> {
    this.calls.push({ argv, stdin });
    return Promise.resolve(this.respond(argv, stdin));
  }
}
