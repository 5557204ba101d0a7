// engine state ← store: a run interrupted (commit, close, reopen, restore, re-feed the
// uncommitted lines) makes the same decisions as an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';
import { Jail } from '../../src/engine/jail.js';
import type { JailPolicy } from '../../src/engine/policy.js';
import type { Decision, Failure } from '../../src/events.js';
import { failure, policy } from '../engine/helpers.js';
import { seededRandom } from '../helpers/prng.js';

const rng = seededRandom;

function workload(seed: number, n: number): Failure[] {
  const r = rng(seed);
  const out: Failure[] = [];
  let t = 1_700_000_000_000;
  for (let i = 0; i < n; i++) {
    t += Math.floor(r() * 2000);
    const late = r() < 0.05 ? Math.floor(r() * 30_000) : 0;
    const ip = r() < 0.7 ? `198.51.100.${Math.floor(r() * 40)}` : r() < 0.5 ? `203.0.113.${Math.floor(r() * 5)}` : `2001:db8:0:${Math.floor(r() * 3)}::${Math.floor(r() * 20).toString(16)}`;
    out.push(failure(ip, t - late));
  }
  return out;
}

const show = (d: Decision): string =>
  d.type === 'none' ? d.reason : d.bans.map((b) => `${b.kind} ${b.target.addr}/${b.target.prefix} ${b.created} ${b.until} ${b.failures} #${b.banNumber}`).join(' + ');

function run(jail: Jail, f: Failure, out: string[]): void {
  for (const l of jail.expire(f.time)) out.push(`lift ${l.ban.target.addr}/${l.ban.target.prefix} ${l.time}`);
  out.push(show(jail.observe(f)));
}

const P: JailPolicy = policy({
  findtime: 60_000,
  maxretry: 5,
  bantime: 120_000,
  increment: { enabled: true, factor: 2, maxtime: 3_600_000, remember: 86_400_000 },
  subnet: { enabled: true, ipv4Prefix: 24, ipv6Prefix: 64, maxretry: 12, minAddresses: 3, bantime: 300_000 },
});

for (const seed of [1, 2, 3, 4, 5]) {
  test(`restart from the store gives the same decisions (seed ${seed})`, () => {
    const lines = workload(seed, 5000);
    const expected: string[] = [];
    const straight = new Jail(P);
    for (const f of lines) run(straight, f, expected);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-rebuild-'));
    const file = path.join(dir, 'pban.sqlite');
    const got: string[] = [];
    const r = rng(seed * 7919);
    let store = openStore(file);
    let jail = Jail.restore(P, store.loadJail(P.name, { findtime: P.findtime, remember: P.increment.remember }));
    let committed = 0; // index of the first uncommitted line (what a source position records)
    let gotAtCommit = 0;
    let i = 0;
    let restarts = 0;
    while (i < lines.length) {
      run(jail, lines[i]!, got);
      i++;
      if (r() < 0.01) {
        store.commit({ jails: [jail.takeChanges()], positions: [{ sourceId: 'log', path: 'log', inode: 1, offset: i, firstLineHash: '' }] });
        committed = i;
        gotAtCommit = got.length;
      } else if (r() < 0.003) {
        // Crash: forget memory and uncommitted output, reopen, rebuild, resume at the position.
        store.close();
        store = openStore(file);
        jail = Jail.restore(P, store.loadJail(P.name, { findtime: P.findtime, remember: P.increment.remember }));
        i = store.position('log')?.offset ?? 0;
        assert.equal(i, committed);
        got.length = gotAtCommit;
        restarts++;
      }
    }
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.ok(restarts > 0, 'the run restarted at least once');
    assert.ok(expected.some((d) => d.includes('network')) && expected.some((d) => d.includes('#2')), 'the workload exercises network bans and increments');
    assert.deepEqual(got, expected);
    assert.deepEqual(jail.status(), straight.status());
  });
}
