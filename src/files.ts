// The one place that decides what pban opens as a file: regular files only. A FIFO blocks
// open() until a writer comes (the whole daemon with it: file reads are synchronous), and a
// device such as /dev/zero never ends. So every open is non-blocking and checked with fstat on
// the descriptor it returns (no window between a stat and the open), and configuration files
// (config, filters, actions) are read only up to a size no real one reaches.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** Config, filter and action files above this are refused: the largest real ones are a few KiB. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** A file that exists but that pban will not read: not a regular file, or too large. */
export class FileProblem extends Error {
  constructor(
    readonly code: 'ENOTREG' | 'EFBIG',
    message: string,
  ) {
    super(message);
    this.name = 'FileProblem';
  }
}

/** "a FIFO", "a directory", …: what a non-regular file is, for messages. */
export function fileKind(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Why a path that exists cannot be followed as a log, or undefined when it can (a regular file). */
export function notRegular(st: Stats): string | undefined {
  return st.isFile() ? undefined : `is ${fileKind(st)}, not a regular file`;
}

// O_NONBLOCK: open() of a FIFO returns at once instead of waiting for a writer; reads of a
// regular file ignore it. O_NOCTTY: a terminal device never becomes our controlling terminal.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/**
 * Opens a regular file for reading without ever blocking. Throws FileProblem (ENOTREG) for
 * anything else, or the system error (ENOENT, EACCES, …). The caller closes the descriptor.
 */
export function openRegularFile(file: string): { fd: number; st: Stats } {
  const fd = openSync(file, OPEN_FLAGS);
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const why = notRegular(st);
  if (why !== undefined) {
    closeSync(fd);
    throw new FileProblem('ENOTREG', why);
  }
  return { fd, st };
}

/** Reads a whole configuration file (UTF-8): regular, and at most `max` bytes. */
export function readSmallTextFile(file: string, max = MAX_CONFIG_FILE_BYTES): string {
  const { fd, st } = openRegularFile(file);
  try {
    const tooLarge = (): FileProblem => new FileProblem('EFBIG', `is larger than ${max} bytes, too large for a configuration file`);
    if (st.size > max) throw tooLarge();
    // Read to EOF, but never more than max + 1 bytes: the file may grow after the fstat.
    let buf = Buffer.allocUnsafe(st.size + 1);
    let used = 0;
    for (;;) {
      if (used === buf.length) {
        if (used > max) throw tooLarge();
        const bigger = Buffer.allocUnsafe(max + 1);
        buf.copy(bigger, 0, 0, used);
        buf = bigger;
      }
      const n = readSync(fd, buf, used, buf.length - used, used);
      if (n === 0) return buf.toString('utf8', 0, used);
      used += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** One short phrase for an error from openRegularFile / readSmallTextFile, for a one-line message. */
export function describeFileError(err: unknown): string {
  if (err instanceof FileProblem) return err.message;
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a regular file';
    default:
      return e.code ?? e.message;
  }
}
