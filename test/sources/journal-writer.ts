// Writes real journal files with systemd-journal-remote (Journal Export Format on stdin), for
// tests of the journald source without a running systemd-journald. Appending to the same file
// from a second run is seen by a `journalctl --file=… --follow` that is already running.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { requireCommands } from '../helpers/system.js';

export const JOURNAL_REMOTE = '/lib/systemd/systemd-journal-remote';
const BOOT_ID = '0123456789abcdef0123456789abcdef';

/** Throws (the test fails) unless systemd-journal-remote and journalctl are installed. */
export function ensureJournalRemote(): void {
  requireCommands(['systemd-journal-remote', 'journalctl']);
  if (!existsSync(JOURNAL_REMOTE)) throw new Error(`systemd-journal-remote is installed but not at ${JOURNAL_REMOTE}`);
}

export interface TestEntry {
  readonly message: string | Buffer;
  readonly identifier?: string;
  readonly pid?: number;
  readonly hostname?: string;
  readonly unit?: string;
  /** µs since the epoch; default: now. */
  readonly realtimeUs?: bigint;
}

let monotonic = 1000n;

function field(name: string, value: string | Buffer): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value) : value;
  // Text fields are NAME=value; anything with a newline or non-UTF-8 bytes uses the binary form.
  if (typeof value === 'string' && !value.includes('\n')) return Buffer.concat([Buffer.from(`${name}=`), v, Buffer.from('\n')]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(v.length));
  return Buffer.concat([Buffer.from(`${name}\n`), len, v, Buffer.from('\n')]);
}

export function exportFormat(entries: readonly TestEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    monotonic += 1000n;
    parts.push(field('__REALTIME_TIMESTAMP', String(e.realtimeUs ?? BigInt(Date.now()) * 1000n)));
    parts.push(field('__MONOTONIC_TIMESTAMP', String(monotonic)));
    parts.push(field('_BOOT_ID', BOOT_ID));
    if (e.hostname !== undefined) parts.push(field('_HOSTNAME', e.hostname));
    if (e.identifier !== undefined) parts.push(field('SYSLOG_IDENTIFIER', e.identifier));
    if (e.pid !== undefined) parts.push(field('_PID', String(e.pid)));
    if (e.unit !== undefined) parts.push(field('_SYSTEMD_UNIT', e.unit));
    parts.push(field('MESSAGE', e.message), Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Appends entries to a journal file (created if missing). */
export function writeJournal(file: string, entries: readonly TestEntry[]): void {
  execFileSync(JOURNAL_REMOTE, [`--output=${file}`, '-'], { input: exportFormat(entries), stdio: ['pipe', 'ignore', 'pipe'] });
}

/** A Postfix smtpd entry as journald stores it on Debian 12. */
export function smtpd(message: string | Buffer, extra: Partial<TestEntry> = {}): TestEntry {
  return { message, identifier: 'postfix/smtpd', pid: 4242, hostname: 'mx1', unit: 'postfix@-.service', ...extra };
}
