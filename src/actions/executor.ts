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
 * restores 100,000 bans while nft loads them) nft waited seconds for its script. The launcher
 * (launcher.ts) is handed such input as a file too, for the same reason.
 */
export const STDIN_FILE_ABOVE = 64 * 1024;

/** Input for a command kept in a file only we can open; `dispose` removes it (idempotent). */
export interface StdinFile {
  readonly path: string;
  dispose(): void;
}

/** `text` in a file only root can reach: 0600, in a fresh 0700 directory. */
export function writeStdinFile(text: string): StdinFile {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pban-stdin-'));
  const dispose = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const file = path.join(dir, 'stdin');
    const w = openSync(file, 'wx', 0o600);
    try {
      const buf = Buffer.from(text, 'utf8');
      for (let off = 0; off < buf.length; ) off += writeSync(w, buf, off);
    } finally {
      closeSync(w);
    }
    return { path: file, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}

/**
 * A stdin file opened for reading from its start and then removed: the program reads it at its
 * own pace, whatever our event loop does, and nothing is left behind whatever happens next.
 */
export function openStdinFile(f: StdinFile): number {
  try {
    return openSync(f.path, 'r');
  } finally {
    f.dispose();
  }
}

/** Input as text (through a pipe), or an open descriptor the program reads from (closed here). */
export type CommandInput = { readonly text: string | undefined } | { readonly fd: number };

/** Starts one program and collects its result. The one place that calls spawn. */
export function runCommand(argv: readonly string[], input: CommandInput, timeoutMs: number, signal?: AbortSignal): Promise<CommandResult> {
  const [file, ...args] = argv;
  const fd = 'fd' in input ? input.fd : undefined;
  const closeFd = (): void => {
    if (fd !== undefined) closeSync(fd);
  };
  if (file === undefined) {
    closeFd();
    return Promise.resolve({ status: null, stdout: '', stderr: 'empty command' });
  }
  if (signal?.aborted) {
    closeFd();
    return Promise.resolve({ status: null, stdout: '', stderr: `${file}: not run: the action is stopping` });
  }
  return new Promise((resolve) => {
    // Our own timer rather than spawn's `timeout`: Node arms that one even when the program
    // cannot start (ENOENT) and never clears it, which kept a stopping daemon alive for a minute.
    let child;
    try {
      child = spawn(file, args, { stdio: [fd ?? 'pipe', 'pipe', 'pipe'], shell: false, env: { ...process.env, LC_ALL: 'C' } });
    } finally {
      // the child has its own copy of the descriptor (or never started): ours is not needed
      closeFd();
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: Error | undefined;
    let killedFor: string | undefined;
    const kill = (why: string) => {
      killedFor ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(`timed out after ${timeoutMs} ms`), timeoutMs);
    timer.unref();
    const onAbort = () => kill('the action is stopping');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      spawnError = e;
    });
    // a program that exits before reading all of stdin must not crash us with EPIPE
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end('text' in input ? (input.text ?? '') : '');
    }
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      const stderr = Buffer.concat(err).toString('utf8');
      resolve({
        status: spawnError || killedFor ? null : code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: spawnError ? `${file}: ${spawnError.message}` : killedFor ? `${stderr}${file}: killed: ${killedFor}` : sig ? `${stderr}killed by ${sig}` : stderr,
      });
    });
  });
}

/** Runs commands with child_process.spawn, in this process. */
export class SpawnExecutor implements Executor {
  constructor(private readonly opts: SpawnExecutorOptions = {}) {}

  run(argv: readonly string[], stdin?: string, opts: RunOptions = {}): Promise<CommandResult> {
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    let input: CommandInput = { text: stdin };
    if (stdin !== undefined && stdin.length > STDIN_FILE_ABOVE && argv.length > 0 && !opts.signal?.aborted) {
      try {
        input = { fd: openStdinFile(writeStdinFile(stdin)) };
      } catch {
        // no temp space: the pipe still works, only slower
      }
    }
    return runCommand(argv, input, timeoutMs, opts.signal);
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
