// Prompt wake-ups for the follower: inotify (fs.watch) on the watched directories, plus a slow
// poll as a safety net (inotify misses events on some file systems and across mount changes).
import { watch, type FSWatcher } from 'node:fs';

/** A level-triggered latch: notify() before wait() makes the next wait() return at once. */
export class Wakeup {
  private pending = false;
  private resolve: (() => void) | null = null;

  notify(): void {
    this.pending = true;
    const r = this.resolve;
    this.resolve = null;
    r?.();
  }

  async wait(): Promise<void> {
    if (!this.pending) await new Promise<void>((res) => (this.resolve = res));
    this.pending = false;
  }
}

/**
 * One inotify watch per directory. A directory watch reports writes to every file in it
 * (IN_MODIFY), creations and renames, so it covers the live file, its rotated copy and its successor.
 */
export class DirWatchers {
  private readonly watchers = new Map<string, FSWatcher>();

  constructor(
    private readonly onChange: () => void,
    private readonly onRename: () => void,
  ) {}

  /** Watches exactly `dirs`: adds the new ones, closes the others. A directory that cannot be watched is retried next time. */
  sync(dirs: ReadonlySet<string>): void {
    for (const [dir, w] of this.watchers) {
      if (!dirs.has(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of dirs) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, (event) => {
          if (event === 'rename') this.onRename();
          this.onChange();
        });
        w.on('error', () => {
          // The directory went away: drop the watch, the next poll re-creates it if it comes back.
          w.close();
          if (this.watchers.get(dir) === w) this.watchers.delete(dir);
          this.onRename();
        });
        this.watchers.set(dir, w);
      } catch {
        // Missing or unreadable: the poll covers it until it can be watched.
      }
    }
  }

  closeAll(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
