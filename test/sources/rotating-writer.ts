// A log writer that rotates its file while it writes, the way real tools do. Run as a child
// process (so the follower under test runs concurrently): `node rotating-writer.js '<plan json>'`.
// Prints one JSON summary line on stdout when done. Used by test/sources and bench/tail-rotation.
import { execFile } from 'node:child_process';
import { closeSync, copyFileSync, openSync, renameSync, truncateSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export interface WriterPlan {
  readonly path: string;
  readonly lines: number;
  readonly mode: 'rename' | 'copytruncate' | 'none';
  /** Lines between two rotations. */
  readonly rotateEvery: number;
  /** rename: lines still written to the renamed file before the writer reopens (postlogd, syslog until HUP). */
  readonly linger: number;
  /** rename: the rotation tool creates the new empty file before the writer reopens (logrotate `create`). */
  readonly createEmpty: boolean;
  /** copytruncate: lines written between the copy and the truncate, which the tool itself loses. */
  readonly gap: number;
  /** Lines per burst; bursts are 1 ms apart. */
  readonly burst: number;
  /** Every n-th line is written in two writes with a pause between (0: never). */
  readonly splitEvery: number;
  /** First sequence number (to continue an earlier run). */
  readonly firstSeq?: number;
  /** Reopen the path on SIGHUP, as syslog daemons do when logrotate's postrotate signals them. */
  readonly reopenOnHup?: boolean;
}

export interface WriterSummary {
  readonly written: number;
  /** copytruncate: lines written between copy and truncate. */
  readonly lostByTool: number[];
  /** Names of the rotated files, in rotation order. */
  readonly rotated: string[];
}

/** A Postfix-like line carrying a sequence number. */
export function logLine(seq: number): string {
  const ip = `192.0.2.${seq % 250}`;
  return `Nov 27 18:00:00 mail postfix/smtpd[${1000 + (seq % 5000)}]: seq=${String(seq).padStart(7, '0')} warning: unknown[${ip}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n`;
}

/** The sequence number of a whole line written by logLine, or -1 (also for a fragment of one). */
export function seqOf(text: string): number {
  const m = /^Nov 27 18:00:00 mail postfix\/smtpd\[\d+\]: seq=(\d{7}) .*: UGFzc3dvcmQ6$/.exec(text);
  return m ? Number(m[1]) : -1;
}

export async function runWriter(plan: WriterPlan): Promise<WriterSummary> {
  let fd = openSync(plan.path, 'a');
  let reopen = false;
  if (plan.reopenOnHup) process.on('SIGHUP', () => (reopen = true));
  const lostByTool: number[] = [];
  const rotated: string[] = [];
  let generation = 0;
  const first = plan.firstSeq ?? 0;
  const write = async (seq: number): Promise<void> => {
    const line = logLine(seq);
    if (plan.splitEvery > 0 && seq % plan.splitEvery === 0) {
      const cut = 20 + (seq % 40);
      writeSync(fd, line.slice(0, cut));
      await sleep(1);
      writeSync(fd, line.slice(cut));
    } else writeSync(fd, line);
  };
  let seq = first;
  const end = first + plan.lines;
  while (seq < end) {
    for (let b = 0; b < plan.burst && seq < end; b++) {
      if (reopen) {
        reopen = false;
        closeSync(fd);
        fd = openSync(plan.path, 'a');
      }
      await write(seq++);
      const written = seq - first;
      if (plan.mode === 'none' || written % plan.rotateEvery !== 0 || seq >= end) continue;
      const dest = `${plan.path}.${++generation}`;
      rotated.push(dest);
      if (plan.mode === 'rename') {
        renameSync(plan.path, dest);
        if (plan.createEmpty) closeSync(openSync(plan.path, 'a'));
        for (let i = 0; i < plan.linger && seq < end; i++) await write(seq++);
        closeSync(fd);
        fd = openSync(plan.path, 'a');
      } else {
        copyFileSync(plan.path, dest);
        for (let i = 0; i < plan.gap && seq < end; i++) {
          lostByTool.push(seq);
          await write(seq++);
        }
        truncateSync(plan.path, 0);
      }
    }
    await sleep(1);
  }
  closeSync(fd);
  return { written: seq - first, lostByTool, rotated };
}

/** Runs the plan in a separate process, so the follower under test runs concurrently with it. */
export function startWriter(plan: WriterPlan): { readonly pid: number; readonly done: Promise<WriterSummary> } {
  let pid = 0;
  const done = new Promise<WriterSummary>((resolve, reject) => {
    const child = execFile(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify(plan)], (err, stdout, stderr) => {
      if (err) reject(new Error(`writer failed: ${stderr}`, { cause: err }));
      else resolve(JSON.parse(stdout) as WriterSummary);
    });
    pid = child.pid ?? 0;
  });
  return { pid, done };
}

export function spawnWriter(plan: WriterPlan): Promise<WriterSummary> {
  return startWriter(plan).done;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const plan = JSON.parse(process.argv[2] ?? '{}') as WriterPlan;
  const summary = await runWriter(plan);
  process.stdout.write(JSON.stringify(summary) + '\n');
}
