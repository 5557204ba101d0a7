// Runs the daemon's commands (firewall programs, notifications, ignore commands) from a small
// helper process, the launcher, instead of from the daemon itself.
//
// Why: starting a program forks the process that asks, and fork() stops that process while the
// kernel copies its page tables. From the daemon during a 1M-line burst (75-135 MB resident)
// each spawn() blocked the event loop 7-23 ms, four times a second, and those stalls were most
// of the worst `pban status` replies (bench/startup.bench.ts, --burst-only). The launcher is
// forked once, when the daemon is still small; it stays small, so its forks are cheap, and they
// block only it. sshguard separates its blocker process for the same kind of reason.
//
// The contract is Executor's: the launcher runs each command with SpawnExecutor (argument arrays,
// never a shell; the same timeout and stdin handling), and an abort here kills the command there.
// If the launcher dies, the commands it was running fail (status null, with the reason), and the
// next command forks a new one: a command is never lost silently and never run twice.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_COMMAND_TIMEOUT_MS, STDIN_FILE_ABOVE, writeStdinFile, type CommandResult, type Executor, type RunOptions, type StdinFile } from './executor.js';
import type { LauncherReply, LauncherRequest } from './launcher-protocol.js';

const CHILD = fileURLToPath(new URL('./launcher-child.js', import.meta.url));

/**
 * A command whose answer has not come this long after its own timeout means the launcher is
 * wedged: it is killed, which fails its commands and lets the next one fork a new launcher.
 */
const ANSWER_GRACE_MS = 5_000;

interface Pending {
  readonly program: string;
  readonly settle: (r: CommandResult) => void;
}

export class Launcher implements Executor {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private started: Promise<void> = Promise.resolve();

  run(argv: readonly string[], stdin?: string, opts: RunOptions = {}): Promise<CommandResult> {
    const program = argv[0];
    if (program === undefined) return Promise.resolve({ status: null, stdout: '', stderr: 'empty command' });
    if (opts.signal?.aborted) return Promise.resolve({ status: null, stdout: '', stderr: `${program}: not run: the action is stopping` });
    if (this.closed) return Promise.resolve({ status: null, stdout: '', stderr: `${program}: not run: pban is stopping` });
    const child = this.ensureChild();
    const id = this.nextId++;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    // A large input (a restart's 3 MB nft script) goes as a file: through the IPC channel it would
    // be written a socket buffer per event-loop turn, slowly while the daemon is busy loading.
    let file: StdinFile | undefined;
    if (stdin !== undefined && stdin.length > STDIN_FILE_ABOVE) {
      try {
        file = writeStdinFile(stdin);
      } catch {
        file = undefined; // no temp space: the channel still carries it, only slower
      }
    }
    const input = file !== undefined ? { path: file.path } : { text: stdin };
    return new Promise((resolve) => {
      const onAbort = (): void => send(child, { type: 'abort', id }, () => undefined);
      const guard = setTimeout(() => {
        // the launcher did not answer in time: its commands fail, the next run forks anew
        child.kill('SIGKILL');
      }, timeoutMs + ANSWER_GRACE_MS);
      guard.unref();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        program,
        settle: (r) => {
          // the launcher removes it when it opens it; not if it died first
          file?.dispose();
          clearTimeout(guard);
          opts.signal?.removeEventListener('abort', onAbort);
          this.pending.delete(id);
          if (this.pending.size === 0) {
            child.unref();
            child.channel?.unref();
            if (this.closed && child.connected) child.disconnect();
          }
          resolve(r);
        },
      });
      // While a command runs, the launcher keeps the process alive to hear its answer or its end.
      child.ref();
      child.channel?.ref();
      send(child, { type: 'run', id, argv: [...argv], stdin: input, timeoutMs }, () => {
        this.pending.get(id)?.settle({ status: null, stdout: '', stderr: `${program}: not run: the launcher process is gone` });
      });
    });
  }

  /**
   * Forks the launcher now rather than at the first command: its start-up (tens of ms) then
   * overlaps the daemon's own, instead of delaying the re-apply of the bans.
   */
  warm(): void {
    if (!this.closed) this.ensureChild();
  }

  /**
   * Ends the launcher once the commands it runs have answered (the daemon stops its actions
   * first, so normally none is left); no new command is taken.
   */
  close(): void {
    this.closed = true;
    const child = this.child;
    // Disconnected, it has nothing left to wait for and exits by itself.
    if (child !== null && child.connected && this.pending.size === 0) child.disconnect();
  }

  /** Resolves once the launcher forked last is up (or gone); tests wait for it. */
  ready(): Promise<void> {
    const child = this.child;
    if (child === null) return this.started;
    // waiting for it is a reason to stay alive, as a running command is
    child.ref();
    child.channel?.ref();
    return this.started.finally(() => {
      if (this.pending.size > 0) return;
      child.unref();
      child.channel?.unref();
    });
  }

  /** The launcher's pid, while one runs (tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private ensureChild(): ChildProcess {
    if (this.child !== null) return this.child;
    const child = fork(CHILD, [], {
      // no --cpu-prof or --inspect of the daemon: the launcher is not what they are for
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let ready!: () => void;
    this.started = new Promise((r) => (ready = r));
    child.on('message', (m: LauncherReply) => {
      if (m.type === 'ready') ready();
      else this.pending.get(m.id)?.settle(m.result);
    });
    // A launcher that fails to start or dies: what it ran fails with the reason.
    const gone = (why: string): void => {
      if (this.child === child) this.child = null;
      for (const p of [...this.pending.values()]) p.settle({ status: null, stdout: '', stderr: `${p.program}: no answer: the launcher process ${why}` });
    };
    child.on('error', (err) => gone(`failed: ${err.message}`));
    child.on('exit', (code, signal) => {
      ready(); // nobody waits for a launcher that is gone
      gone(signal !== null ? `was killed by ${signal}` : `exited with status ${code}`);
    });
    // Idle, the launcher must not keep a daemon that is done from exiting.
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }
}

/** Sends m; `failed` runs if it cannot reach the launcher (gone, or the channel closed). */
function send(child: ChildProcess, m: LauncherRequest, failed: () => void): void {
  if (!child.connected) return failed();
  try {
    child.send(m, (err) => {
      if (err) failed();
    });
  } catch {
    failed();
  }
}
