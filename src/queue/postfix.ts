// The edge to Postfix: postqueue, postcat and postsuper run with argument arrays (never a shell),
// queue ids go to postsuper on stdin, and every failure becomes one PbanError line. Whatever
// these commands print about messages (senders, reasons) is attacker-controlled text and is
// only ever parsed, never executed or interpolated into a command.
import { spawn } from 'node:child_process';
import { PbanError } from '../errors.js';
import { parsePostqueueJson, type ParsedQueue } from './postqueue.js';
import { parsePostcat, vanishedId, type MessageOrigin } from './postcat.js';
import { parsePostsuperDone, postsuperWarnings, SUPER_FLAG, type SuperOperation } from './postsuper.js';

export interface PostfixOptions {
  /** Postfix config directory (-c), for a second instance; undefined: Postfix's default. */
  readonly configDir?: string | undefined;
}

interface Output {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class PostfixError extends PbanError {}

function exec(argv: readonly string[], input?: string): Promise<Output> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new PostfixError('queue.noPostfix', `${cmd} not found in PATH: is Postfix installed?`));
      else reject(new PostfixError('queue.exec', `${cmd}: ${e.message}`));
    });
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
    if (input !== undefined) {
      child.stdin!.on('error', () => undefined); // a command that exits early closes its stdin: its exit code tells
      child.stdin!.end(input);
    }
  });
}

const firstLine = (s: string): string => s.trim().split('\n')[0] ?? '';

const withConfig = (opts: PostfixOptions, cmd: string, ...args: string[]): string[] => [cmd, ...(opts.configDir === undefined ? [] : ['-c', opts.configDir]), ...args];

export interface QueueListing extends ParsedQueue {
  /** Postfix was not running, postqueue read the queue files itself (root only). */
  readonly mailSystemDown: boolean;
}

/** The queue as `postqueue -j` lists it. */
export async function listQueue(opts: PostfixOptions): Promise<QueueListing> {
  const r = await exec(withConfig(opts, 'postqueue', '-j'));
  if (r.code !== 0) {
    const why = firstLine(r.stderr) || `exit ${r.code}`;
    const down = /mail system is down/i.test(r.stderr) ? ' (is Postfix running?)' : '';
    throw new PostfixError('queue.postqueue', `postqueue -j failed: ${why}${down}`);
  }
  const parsed = parsePostqueueJson(r.stdout);
  return { ...parsed, mailSystemDown: /mail system is down/i.test(r.stderr) };
}

/** postcat reads this many queue files per run: one process per message would be slow on a big queue. */
export const POSTCAT_BATCH = 100;

export interface Origins {
  readonly origins: Map<string, MessageOrigin>;
  /** Listed by postqueue, gone before postcat read it: delivered, deleted or expired meanwhile. */
  readonly vanished: Set<string>;
}

/**
 * Where each message came from, by `postcat -q`. A message that left the queue since it was
 * listed makes postcat stop at it; it is noted as vanished and the rest of the batch is read again.
 */
export async function readOrigins(opts: PostfixOptions, ids: readonly string[]): Promise<Origins> {
  const origins = new Map<string, MessageOrigin>();
  const vanished = new Set<string>();
  let pending = [...ids];
  while (pending.length > 0) {
    const batch = pending.slice(0, POSTCAT_BATCH);
    const r = await exec(withConfig(opts, 'postcat', '-q', ...batch));
    for (const [id, o] of parsePostcat(r.stdout)) origins.set(id, o);
    if (r.code !== 0) {
      const gone = vanishedId(r.stderr);
      if (gone === null || !batch.includes(gone)) throw new PostfixError('queue.postcat', `postcat -q failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
      vanished.add(gone);
    }
    const read = new Set([...origins.keys(), ...vanished]);
    const rest = batch.filter((id) => !read.has(id));
    // postcat reads in order: what follows the vanished id is read again, nothing else.
    pending = [...rest, ...pending.slice(batch.length)];
    if (r.code === 0 && rest.length > 0) {
      // postcat succeeded but printed nothing for these ids: nothing more to learn about them.
      for (const id of rest) origins.set(id, { client: null, source: null, bouncedId: null });
      pending = pending.slice(rest.length);
    }
  }
  return { origins, vanished };
}

/** postsuper takes this many queue ids per run. */
export const POSTSUPER_BATCH = 1000;

export interface SuperResult {
  /** Ids postsuper reports as done. */
  readonly done: Set<string>;
  /** postsuper's warnings, one line each. */
  readonly warnings: string[];
}

/** Deletes, holds or releases messages by queue id: `postsuper -d|-h|-H -` with the ids on stdin. */
export async function postsuper(opts: PostfixOptions, op: SuperOperation, ids: readonly string[]): Promise<SuperResult> {
  const done = new Set<string>();
  const warnings: string[] = [];
  for (let i = 0; i < ids.length; i += POSTSUPER_BATCH) {
    const batch = ids.slice(i, i + POSTSUPER_BATCH);
    const r = await exec(withConfig(opts, 'postsuper', SUPER_FLAG[op], '-'), batch.join('\n') + '\n');
    for (const id of parsePostsuperDone(r.stderr, op)) done.add(id);
    warnings.push(...postsuperWarnings(r.stderr));
    if (r.code !== 0) throw new PostfixError('queue.postsuper', `postsuper ${SUPER_FLAG[op]} failed after ${done.size} messages: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  }
  return { done, warnings };
}
