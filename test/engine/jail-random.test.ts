// The engine against the naive reference model over thousands of seeded random sequences:
// IPv4 and IPv6 together, subnets on and off, disorder, ignore lists, manual ban/unban, and
// a restart (takeChanges → snapshot → Jail.restore) in the middle of some runs, and in half of
// the runs a wall clock: lines dated ahead of it (a little, or far: future-dated), and the wall
// clock stepped back (a little, or beyond the tolerance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Jail } from '../../src/engine/jail.js';
import type { JailPolicy } from '../../src/engine/policy.js';
import type { Address, Ban, Decision, Failure, Family, Target } from '../../src/events.js';
import { PbanError } from '../../src/errors.js';
import { CLOCK_TOLERANCE_MS } from '../../src/engine/wall-clock.js';
import { MODEL_CLOCK_TOLERANCE, ReferenceJail, maskText } from './reference-model.js';
import { MemoryStore } from './memory-store.js';
import { seededRandom } from '../helpers/prng.js';

const SEQUENCES = Number(process.env.PBAN_RANDOM_SEQUENCES ?? 3000);
const BASE_SEED = Number(process.env.PBAN_RANDOM_SEED ?? 20261127);

const rng = seededRandom;

const V4 = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.9', '198.51.100.200', '198.51.101.7', '203.0.113.5', '203.0.113.6'];
const V6 = ['2001:db8:0:1::1', '2001:db8:0:1::2', '2001:db8:0:1::3', '2001:db8:0:1:ffff::9', '2001:db8:0:2::1', '2001:db8:0:2::2', '2001:db8:1::5'];

function randomPolicy(r: () => number, name: string): JailPolicy {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const ignores: Target[][] = [
    [],
    [],
    [{ addr: '198.51.100.9' as Address, prefix: 32, family: 4 }],
    [{ addr: '203.0.113.0' as Address, prefix: 24, family: 4 }],
    [{ addr: '2001:db8:0:2::' as Address, prefix: 64, family: 6 }],
    [{ addr: '2001:db8:0:1::3' as Address, prefix: 128, family: 6 }, { addr: '198.51.101.0' as Address, prefix: 24, family: 4 }],
  ];
  return {
    name,
    findtime: pick([10, 30, 60, 100]),
    maxretry: 1 + Math.floor(r() * 5),
    bantime: r() < 0.1 ? null : pick([5, 20, 50, 200]),
    increment: {
      enabled: r() < 0.5,
      factor: pick([1, 1.5, 2, 3]),
      maxtime: r() < 0.5 ? null : pick([60, 300]),
      remember: pick([0, 100, 1000, 100000]),
    },
    subnet: {
      enabled: r() < 0.7,
      ipv4Prefix: pick([24, 24, 28, 16]),
      ipv6Prefix: pick([64, 64, 112, 48]),
      maxretry: 2 + Math.floor(r() * 7),
      minAddresses: 1 + Math.floor(r() * 4),
      bantime: r() < 0.1 ? null : pick([10, 40, 150]),
    },
    ignore: pick(ignores),
  };
}

function show(b: Ban): string {
  return `${b.kind} ${b.target.addr}/${b.target.prefix} created=${b.created} until=${b.until} failures=${b.failures} n=${b.banNumber}`;
}

function showDecision(d: Decision): string {
  return d.type === 'none' ? d.reason : `ban[${d.bans.map(show).join('; ')}]`;
}

function errorCode(fn: () => unknown): string | unknown {
  try {
    return fn();
  } catch (e) {
    if (e instanceof PbanError) return e.code;
    throw e;
  }
}

function runSequence(seed: number): void {
  const r = rng(seed);
  const policy = randomPolicy(r, `j${seed}`);
  let jail = new Jail(policy);
  const ref = new ReferenceJail(policy);
  const walled = r() < 0.5;
  // A clock set back empties every window; the store drops those failures by pruning, so a store
  // that never prunes cannot stand for the real one then (restore would see them again).
  const store = new MemoryStore(walled || r() < 0.5);
  const restartRate = r() < 0.5 ? 0.05 : 0;
  // The wall clock runs a little ahead of the lines' time (they are read after they are written).
  let wall = 1_000_000;
  const steps = 50 + Math.floor(r() * 250);
  let t = 1_000_000;
  const trail: string[] = [];
  const fail = (msg: string): never => assert.fail(`seed ${seed} policy ${JSON.stringify(policy)}\n${trail.slice(-15).join('\n')}\n${msg}`);

  for (let step = 0; step < steps; step++) {
    if (r() < restartRate) {
      store.commit(jail.takeChanges());
      jail = Jail.restore(policy, store.snapshot());
      ref.restarted();
      trail.push('-- restart --');
    }
    const roll = r();
    if (roll < 0.04 && ref.clock !== -Infinity) {
      // Manual ban at the jail's clock: an address, or a network at the subnet prefix or another.
      const addr = r() < 0.6 ? V4[Math.floor(r() * V4.length)]! : V6[Math.floor(r() * V6.length)]!;
      const family: Family = addr.includes(':') ? 6 : 4;
      const full = family === 4 ? 32 : 128;
      const prefix = r() < 0.5 ? full : family === 4 ? [policy.subnet.ipv4Prefix, 16][Math.floor(r() * 2)]! : [policy.subnet.ipv6Prefix, 32][Math.floor(r() * 2)]!;
      const target: Target = { addr: maskText(addr, prefix) as Address, prefix, family };
      const duration = r() < 0.5 ? undefined : r() < 0.2 ? null : 1 + Math.floor(r() * 100);
      const now = ref.clock;
      const got = errorCode(() => jail.ban(target, now, duration));
      const want = ref.manualBan(target, now, duration);
      const g = typeof got === 'string' ? got : show(got as Ban);
      const w = typeof want === 'string' ? want : show(want);
      trail.push(`ban ${target.addr}/${prefix} ${duration} → ${g}`);
      if (g !== w) fail(`manual ban: engine ${g}, model ${w}`);
      continue;
    }
    if (roll < 0.07 && ref.clock !== -Infinity) {
      const active = jail.activeBans();
      const target: Target =
        active.length > 0 && r() < 0.8 ? active[Math.floor(r() * active.length)]!.target : { addr: '198.51.100.1' as Address, prefix: 32, family: 4 };
      const got = errorCode(() => jail.unban(target, ref.clock));
      const want = ref.manualUnban(target, ref.clock);
      const g = typeof got === 'string' ? got : null;
      trail.push(`unban ${target.addr}/${target.prefix} → ${g}`);
      if (g !== want) fail(`manual unban: engine ${g}, model ${want}`);
      continue;
    }
    // A failure: mostly forward in time, sometimes backwards (a little, or beyond findtime).
    const d = r();
    let time = d < 0.1 ? t - Math.floor(r() * 30) : d < 0.13 ? t - 150 : (t += Math.floor(r() * 12));
    if (walled) {
      const e = r();
      if (e < 0.03) {
        // The wall clock is stepped back, by less than the tolerance or by far more; the lines follow it.
        t -= e < 0.015 ? Math.floor(r() * CLOCK_TOLERANCE_MS) : CLOCK_TOLERANCE_MS + Math.floor(r() * 1e6);
        time = t;
        wall = t;
        trail.push(`-- wall clock set back to ${wall} --`);
      } else if (e < 0.06) {
        // A line dated ahead of the wall clock: within the tolerance, or far beyond it.
        time = wall + (e < 0.045 ? Math.floor(r() * CLOCK_TOLERANCE_MS) : CLOCK_TOLERANCE_MS + 1 + Math.floor(r() * 1e9));
      } else {
        wall = Math.max(wall, t + Math.floor(r() * 3));
      }
    }
    const addr = r() < 0.6 ? V4[Math.floor(r() * V4.length)]! : V6[Math.floor(r() * V6.length)]!;
    const family: Family = addr.includes(':') ? 6 : 4;

    // The daemon lifts bans by the wall clock; a failure is counted at most at the wall clock.
    const due = walled ? Math.min(time, wall) : time;
    const gotLifts = jail.expire(due).map((l) => `${l.ban.target.addr}/${l.ban.target.prefix} ${l.reason} ${l.time}`).sort();
    const wantLifts = ref.expire(due).map((l) => `${l.target} ${l.reason} ${l.time}`).sort();
    if (gotLifts.join() !== wantLifts.join()) fail(`lifts before t=${due}: engine [${gotLifts}] model [${wantLifts}]`);

    const f: Failure = { time, ip: addr as Address, family, filter: 'postfix', kind: 'sasl', fields: {} };
    const got = showDecision(walled ? jail.observe(f, wall) : jail.observe(f));
    const w = walled ? ref.observe(addr, family, time, wall) : ref.observe(addr, family, time);
    const want = w.reason === 'ban' ? `ban[${w.bans.map(show).join('; ')}]` : w.reason;
    trail.push(`${time}${walled ? ` (wall ${wall})` : ''} ${addr} → ${got}`);
    if (got !== want) fail(`failure ${addr} at ${time}: engine ${got}, model ${want}`);
    if (r() < 0.1) store.commit(jail.takeChanges());
  }
  assert.deepEqual(jail.status(), ref.status(), `seed ${seed}: status`);
}

test('the model states the same wall-clock tolerance as the engine', () => {
  assert.equal(MODEL_CLOCK_TOLERANCE, CLOCK_TOLERANCE_MS);
});

test(`engine matches the reference model on ${SEQUENCES} random sequences`, () => {
  for (let i = 0; i < SEQUENCES; i++) runSequence(BASE_SEED + i);
});
