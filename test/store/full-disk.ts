// A real full disk for store tests: a small tmpfs mounted on a directory the test made, filled
// to the last byte by a filler file, and given room again by deleting it. Needs root (mount).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

function run(argv: readonly string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr || r.error?.message}`);
}

export interface SmallDisk {
  readonly dir: string;
  /** Writes a filler file until the file system says ENOSPC. */
  fill(): void;
  /** Deletes the filler: the disk has room again. */
  clear(): void;
  unmount(): void;
}

/** Mounts a tmpfs of `sizeKB` on `dir` (an empty directory the test created). */
export function mountSmallDisk(dir: string, sizeKB: number): SmallDisk {
  run(['mount', '-t', 'tmpfs', '-o', `size=${sizeKB}k,mode=0700`, 'pban-test-tmpfs', dir]);
  const filler = path.join(dir, 'filler');
  let mounted = true;
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(4096, 0x78);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      } finally {
        closeSync(fd);
      }
      // The last page may still take a few bytes: fill it in ever smaller writes.
      const small = openSync(filler, 'a');
      try {
        for (let n = 2048; n >= 1; ) {
          try {
            writeSync(small, chunk, 0, n);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
            n = Math.floor(n / 2);
          }
        }
      } finally {
        closeSync(small);
      }
    },
    clear() {
      rmSync(filler, { force: true });
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      run(['umount', dir]);
    },
  };
}
