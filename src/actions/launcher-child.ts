// The launcher process (see launcher.ts): runs the commands the daemon sends, with the same
// runCommand as SpawnExecutor, and answers with their results. It holds no state beyond the
// running commands.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { openStdinFile, runCommand, type CommandInput, type CommandResult } from './executor.js';
import type { LauncherReply, LauncherRequest } from './launcher-protocol.js';

process.title = 'pban-launcher';
const running = new Map<number, AbortController>();

// A stop of the service or a Ctrl-C reaches the whole process group; the daemon still needs us
// for its stop commands and ends us by closing the channel.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);

process.on('message', (m: LauncherRequest) => {
  if (m.type === 'abort') {
    running.get(m.id)?.abort();
    return;
  }
  const ac = new AbortController();
  running.set(m.id, ac);
  void start(m.argv, m.stdin, m.timeoutMs, ac.signal).then((result) => {
    running.delete(m.id);
    tell({ type: 'result', id: m.id, result });
  });
});

tell({ type: 'ready' });

function start(argv: string[], stdin: Extract<LauncherRequest, { type: 'run' }>['stdin'], timeoutMs: number, signal: AbortSignal): Promise<CommandResult> {
  let input: CommandInput;
  if ('path' in stdin) {
    // only ever a directory writeStdinFile made: nothing else is removed, whatever the message says
    const dir = path.dirname(stdin.path);
    const dispose = (): void => {
      if (path.basename(dir).startsWith('pban-stdin-')) rmSync(dir, { recursive: true, force: true });
    };
    try {
      input = { fd: openStdinFile({ path: stdin.path, dispose }) };
    } catch (err) {
      return Promise.resolve({ status: null, stdout: '', stderr: `${argv[0] ?? ''}: not run: its input file: ${(err as Error).message}` });
    }
  } else input = { text: stdin.text };
  return runCommand(argv, input, timeoutMs, signal);
}

/** The daemon may be gone or done with us (its channel closed): then there is nobody to tell. */
function tell(reply: LauncherReply): void {
  if (!process.connected) return;
  process.send?.(reply, undefined, {}, () => undefined);
}

// The daemon is gone or done with us: the commands still running finish (each is bounded by
// its timeout), then nothing keeps this process alive and it exits.
process.on('disconnect', () => undefined);
