// Finds the rotated copy of a followed file: the file that now holds the bytes we had not read yet
// when the live file was renamed away (logrotate create, `postfix logrotate`) or truncated after a
// copy (copytruncate). It is a sibling whose name starts with the live file's name, is not
// compressed, is at least as long as what we had consumed, and starts with the same first line.
import { closeSync, readdirSync, type Stats } from 'node:fs';
import { openRegularFile } from '../../files.js';
import path from 'node:path';
import { COMPRESSED_SUFFIXES } from './config.js';
import { hashIdentity, readIdentity } from './identity.js';

export interface RotatedCopyQuery {
  /** firstLineHash of the file we were reading. */
  readonly hash: string;
  /** Bytes consumed from it: the copy must hold at least these. */
  readonly offset: number;
  /** Inode we were reading: a renamed file keeps it, so it wins over any other candidate. */
  readonly preferInode?: number;
  /** Inode of the live file, never its own copy. */
  readonly excludeInode?: number;
}

export interface RotatedCopy {
  readonly path: string;
  readonly fd: number;
  readonly ino: number;
  readonly dev: number;
  readonly identity: Buffer;
}

/**
 * Whether `name` is how a rotation names a copy of the live file `base`: base, then ".", "-" or
 * "_", then something with a digit (mail.log.1, mail.log.2.gz, mail.log-20261201,
 * maillog.20261201-101010). A glob never follows such a name as a file of its own when it also
 * matches (or follows) `base`. Not `mail.log.old`, nor a sibling log such as `foo.log` of `foo`.
 */
export function isRotatedName(base: string, name: string): boolean {
  if (name.length <= base.length + 1 || !name.startsWith(base)) return false;
  const rest = name.slice(base.length);
  return (rest[0] === '.' || rest[0] === '-' || rest[0] === '_') && /\d/.test(rest);
}

/** Opens the best matching copy, or returns null. The caller closes the returned fd. */
export function openRotatedCopy(livePath: string, q: RotatedCopyQuery): RotatedCopy | null {
  const dir = path.dirname(livePath);
  const base = path.basename(livePath);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  let best: (RotatedCopy & { mtime: number; preferred: boolean }) | null = null;
  for (const name of names) {
    if (name === base || !name.startsWith(base)) continue;
    if (COMPRESSED_SUFFIXES.some((s) => name.endsWith(s))) continue;
    const full = path.join(dir, name);
    let fd: number;
    let st: Stats;
    try {
      // Never blocks on a FIFO that happens to share the name; only regular files are candidates.
      ({ fd, st } = openRegularFile(full));
    } catch {
      continue;
    }
    let keep = false;
    try {
      if (st.ino === q.excludeInode || st.size < q.offset) continue;
      const identity = readIdentity(fd, st.size);
      if (identity === null || hashIdentity(identity) !== q.hash) continue;
      const preferred = st.ino === q.preferInode;
      const better =
        best === null || (preferred && !best.preferred) || (preferred === best.preferred && st.mtimeMs > best.mtime);
      if (!better) continue;
      if (best !== null) closeSync(best.fd);
      best = { path: full, fd, ino: st.ino, dev: st.dev, identity, mtime: st.mtimeMs, preferred };
      keep = true;
    } finally {
      if (!keep) closeSync(fd);
    }
  }
  if (best === null) return null;
  return { path: best.path, fd: best.fd, ino: best.ino, dev: best.dev, identity: best.identity };
}
