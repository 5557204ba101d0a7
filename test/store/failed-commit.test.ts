// A failed commit must leave the store as it was and usable: the next commit works, and a jail
// rebuilt from the store after it holds nothing of the failed batch.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/index.js';
import { Jail } from '../../src/engine/jail.js';
import { StoreError } from '../../src/errors.js';
import { failure, policy } from '../engine/helpers.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tempDb(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pban-failed-commit-'));
  dirs.push(dir);
  return path.join(dir, 'pban.sqlite');
}

test("a jail's first commit that fails leaves no cached row id: the next commit of that jail stores its ban", () => {
  const store = openStore(tempDb());
  const pol = policy({ name: 'fresh', maxretry: 1 });
  const first = new Jail(pol);
  first.observe(failure('192.0.2.1', 0));
  const c = first.takeChanges();
  // The jail's row is inserted inside this transaction, which then fails and rolls back.
  const bogus = { ...c, lifts: [{ ban: { ...c.bans[0]!, created: 999 }, reason: 'manual' as const, time: 1 }] };
  assert.throws(() => store.commit({ jails: [bogus] }), (e: unknown) => e instanceof StoreError && e.code === 'store.unknownBan');
  assert.deepEqual(store.jails(), [], 'the jail row was rolled back');

  // Memory is rebuilt from the store (empty), the same line is counted again, and stored.
  const again = Jail.restore(pol, store.loadJail('fresh', { findtime: pol.findtime, remember: pol.increment.remember }));
  again.observe(failure('192.0.2.1', 0));
  store.commit({ jails: [again.takeChanges()] });
  assert.deepEqual(store.activeBans('fresh').map((b) => b.target.addr), ['192.0.2.1']);
  const [t] = store.totals();
  assert.deepEqual([t?.jail, t?.totalFailed, t?.totalBanned], ['fresh', 1, 1]);
  // And the jail keeps working after that.
  again.observe(failure('192.0.2.2', 1));
  store.commit({ jails: [again.takeChanges()] });
  assert.equal(store.activeBans('fresh').length, 2);
  store.close();
});
