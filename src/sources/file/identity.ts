// A file's identity beyond its inode: the hash of its first line. It tells a file that was
// truncated and rewritten (copytruncate), or a reused inode, from the file we read before.
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';

/** The identity covers the first line, or its first IDENTITY_MAX bytes when it is longer. */
export const IDENTITY_MAX = 4096;

/**
 * The bytes that identify the file: its first line without the newline (capped), or null while
 * that line is still incomplete. Reads at offset 0 and never moves a file position.
 */
export function readIdentity(fd: number, size: number): Buffer | null {
  if (size === 0) return null;
  const buf = Buffer.alloc(Math.min(size, IDENTITY_MAX + 1));
  const n = readSync(fd, buf, 0, buf.length, 0);
  const nl = buf.subarray(0, n).indexOf(0x0a);
  if (nl !== -1 && nl <= IDENTITY_MAX) return buf.subarray(0, nl);
  if (n > IDENTITY_MAX) return buf.subarray(0, IDENTITY_MAX);
  return null;
}

export function hashIdentity(identity: Buffer): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

/** True when the file still starts with `identity`: it was not truncated and rewritten under us. */
export function startsWith(fd: number, identity: Buffer): boolean {
  const want = identity.length < IDENTITY_MAX ? identity.length + 1 : identity.length;
  const buf = Buffer.alloc(want);
  const n = readSync(fd, buf, 0, want, 0);
  if (n < want) return false;
  if (identity.length < IDENTITY_MAX && buf[identity.length] !== 0x0a) return false;
  return buf.subarray(0, identity.length).equals(identity);
}
