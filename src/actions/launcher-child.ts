// The launcher process (see launcher.ts): runs the commands the daemon sends, one SpawnExecutor
// run each, and answers with their results. It holds no state beyond the running commands.
import type { LauncherReply, LauncherRequest } from './launcher-protocol.js';
import { SpawnExecutor } from './executor.js';

process.title = 'pban-launcher';
const exec = new SpawnExecutor();
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
  void exec.run(m.argv, m.stdin, { timeoutMs: m.timeoutMs, signal: ac.signal }).then((result) => {
    running.delete(m.id);
    tell({ type: 'result', id: m.id, result });
  });
});

tell({ type: 'ready' });

/** The daemon may be gone or done with us (its channel closed): then there is nobody to tell. */
function tell(reply: LauncherReply): void {
  if (!process.connected) return;
  process.send?.(reply, undefined, {}, () => undefined);
}

// The daemon is gone or done with us: the commands still running finish (each is bounded by
// its timeout), then nothing keeps this process alive and it exits.
process.on('disconnect', () => undefined);
