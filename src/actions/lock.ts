// One pban per firewall object. Two daemons driving the same table, chain or set undo each
// other: the second flushes the first one's bans when it starts and deletes its table when it
// stops. So a runner takes a lock file per object before it touches the firewall, and a
// second process asking for the same object is refused. The lock holds the owner's pid: a lock
// left by a process that no longer runs is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { PbanError } from '../errors.js';

/** Where the lock files live unless a runner is told otherwise. */
export const DEFAULT_LOCK_DIR = '/run/pban/locks';

/** Lock files held by this process, by path: a second runner in this process is refused too. */
const held = new Set<string>();

/**
 * The network namespace commands run in: the same object name in two namespaces is two
 * objects. `ip netns exec NAME` and the namespace we run in are named by their inode, so a
 * daemon run inside the namespace and one using the prefix meet on the same lock.
 */
export function namespaceId(prefix: readonly string[]): string {
  const ino = (file: string) => {
    try {
      return `net${statSync(file).ino}`;
    } catch {
      return undefined;
    }
  };
  if (prefix.length === 0) return ino('/proc/self/ns/net') ?? 'net-self';
  if (prefix.length === 4 && prefix[0] === 'ip' && prefix[1] === 'netns' && prefix[2] === 'exec') {
    const id = ino(path.join('/run/netns', prefix[3] ?? ''));
    if (id) return id;
  }
  return `prefix-${createHash('sha256').update(prefix.join('\0')).digest('hex').slice(0, 16)}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When a process started (ms since the epoch), from /proc; undefined when unknown. A pid is
 * reused: a process that started after the lock file was written is not its owner (a pban
 * restarted in a container often gets its old pid, and another process may get it too).
 */
function startedAt(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name, which may hold spaces and parentheses
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // USER_HZ is 100 on every Linux architecture Node runs on
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

function writtenAt(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Does the process named in a lock file still hold it? */
function holds(pid: number, file: string): boolean {
  if (!alive(pid)) return false;
  const started = startedAt(pid);
  const written = writtenAt(file);
  // 2 s of slack for clock granularity: a pid reused within 2 s of the crash is not caught
  return started === undefined || written === undefined || started <= written + 2000;
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function lockFileName(object: string, ns: string): string {
  // object names are validated parameters, but a lock file name must never leave the directory
  return `${object.replace(/[^A-Za-z0-9_.+-]/g, '_')}@${ns}.lock`;
}

export interface HeldLocks {
  readonly files: readonly string[];
  release(): void;
}

/**
 * Takes one lock per object, all or none. Throws a PbanError naming the object and the process
 * that holds it.
 */
export function acquireLocks(dir: string, objects: readonly string[], prefix: readonly string[], who: string): HeldLocks {
  const ns = namespaceId(prefix);
  const taken: string[] = [];
  const release = () => {
    for (const f of taken.splice(0)) {
      held.delete(f);
      if (ownerOf(f) === process.pid) {
        try {
          unlinkSync(f);
        } catch {
          // already gone
        }
      }
    }
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new PbanError('action.lockDir', `${who}: cannot create the lock directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  for (const object of [...new Set(objects)]) {
    const file = path.join(dir, lockFileName(object, ns));
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o644);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        taken.push(file);
        held.add(file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) {
          release();
          if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(who, object, file, ownerOf(file));
          throw new PbanError('action.lockFailed', `${who}: cannot take the lock ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        const owner = ownerOf(file);
        // ours but no runner here holds it (a runner that was never stopped), or a dead process: stale
        const stale = owner === undefined ? false : owner === process.pid ? !held.has(file) : !holds(owner, file);
        if (!stale) {
          release();
          throw conflict(who, object, file, owner);
        }
        try {
          unlinkSync(file);
        } catch {
          // someone else removed it first: the retry settles who gets it
        }
      }
    }
  }
  return { files: [...taken], release };
}

function conflict(who: string, object: string, file: string, owner: number | undefined): PbanError {
  const by = owner === process.pid ? 'another action of this pban' : owner === undefined ? 'another pban (its lock file is unreadable)' : `pban process ${owner}`;
  return new PbanError('action.locked', `${who}: firewall object "${object}" is already used by ${by} (lock ${file}); two instances would flush each other's bans`);
}
