// Who pban knows to be hostile, for the queue: the active bans in the store (read-only, when the
// daemon that owns it is not there to ask) and the addresses that fail a log through the
// configured filters. The daemon's own answer is fetched by the CLI over the control socket.
import { closeSync, openSync } from 'node:fs';
import type { Target } from '../events.js';
import type { CompiledFilter } from '../filters/index.js';
import { openStore } from '../store/index.js';
import { readLineChunks } from '../sources/read-lines.js';
import { PbanError } from '../errors.js';

/** The targets banned now, read from the store without writing to it. */
export function bannedFromStore(database: string, now: number): Target[] {
  const store = openStore(database, { readonly: true });
  try {
    return store
      .activeBans()
      .filter((b) => b.until === null || b.until > now)
      .map((b) => b.target);
  } finally {
    store.close();
  }
}

/** Address → failures, over every line of `file` that one of `filters` matches. */
export function failuresInLog(file: string, filters: readonly CompiledFilter[], now: number): Map<string, number> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PbanError('queue.log', `${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const failed = new Map<string, number>();
  try {
    for (const chunk of readLineChunks(fd)) {
      let p = 0;
      for (let e = chunk.indexOf('\n'); e !== -1; p = e + 1, e = chunk.indexOf('\n', p)) {
        const line = chunk.slice(p, e > p && chunk.charCodeAt(e - 1) === 13 ? e - 1 : e);
        for (const f of filters) {
          const r = f.match(line, now);
          if (r.type !== 'failure') continue;
          failed.set(r.failure.ip, (failed.get(r.failure.ip) ?? 0) + 1);
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return failed;
}
