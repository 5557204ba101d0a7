// Test harness: runs a FileSource in the background, records what it delivers, and spawns the
// rotating writer as a separate process.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after } from 'node:test';
import type { FileSource, LineBatch } from '../../src/sources/index.js';
import { seqOf } from './rotating-writer.js';

export { spawnWriter } from './rotating-writer.js';

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'pban-sources-'));
}

const running = new Set<Following>();
// A failed assertion must not leave a follower (and its poll timer) keeping the test process alive.
after(async () => {
  for (const f of running) await f.stop();
});

export interface Following {
  readonly batches: LineBatch[];
  /** Sequence numbers of the delivered lines, in delivery order. */
  readonly seqs: number[];
  /** Waits (bounded) until pred holds; returns whether it did. */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean>;
  /** Aborts the follower and waits for it to close everything. */
  stop(): Promise<void>;
  /** Rejects if the follower threw. */
  readonly done: Promise<void>;
}

/**
 * Follows in the background. `ack(batch)` runs before the next batch is pulled (like a commit);
 * returning false stops right there, leaving that batch unacknowledged (a simulated crash).
 */
export function startFollowing(source: FileSource, ack: (b: LineBatch) => boolean = () => true): Following {
  const ac = new AbortController();
  const batches: LineBatch[] = [];
  const seqs: number[] = [];
  const done = (async () => {
    for await (const b of source.follow(ac.signal)) {
      if (!ack(b)) return;
      batches.push(b);
      for (const l of b.lines) seqs.push(seqOf(l.text));
    }
  })();
  const following: Following = {
    batches,
    seqs,
    done,
    async waitFor(pred, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > deadline) return false;
        await sleep(10);
      }
      return true;
    },
    async stop() {
      running.delete(following);
      ac.abort();
      await done;
    },
  };
  running.add(following);
  return following;
}

/** Describes how a delivered sequence departs from the expected one, for assertion messages. */
export function describeDelivery(seqs: readonly number[], expected: readonly number[]): string {
  const got = new Set(seqs);
  const missing = expected.filter((s) => !got.has(s));
  const dups = seqs.length - got.size;
  let disorder = 0;
  for (let i = 1; i < seqs.length; i++) if (seqs[i]! <= seqs[i - 1]!) disorder++;
  return `delivered ${seqs.length}, expected ${expected.length}, missing ${missing.length} (first: ${missing.slice(0, 5).join(',')}), duplicates ${dups}, out of order ${disorder}`;
}
