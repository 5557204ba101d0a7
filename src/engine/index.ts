// The jail engine: exact sliding windows per address and per network, and the ban policy.
// Pure: no I/O, no clock reads. Everything here is driven by the failures' own timestamps.
//
// Rules (one jail; "clock" = the newest failure time the jail has seen):
// - Window: an address's window at the clock holds its counted failures with
//   time > clock − findtime, minus those a ban of that address cleared.
// - Address ban: when the window reaches maxretry the address is banned from the clock for
//   its ban time, and its window is cleared. The n-th ban of a target lasts
//   bantime·factor^(n−1) capped at maxtime, n = 1 + its bans created within
//   increment.remember before this one; increment off → always bantime; bantime null →
//   permanent (until null). banNumber is n in every case.
// - Network ban: every counted failure also counts for its network (address masked to
//   subnet.ipv4Prefix / ipv6Prefix). When the network's window reaches subnet.maxretry with
//   ≥ subnet.minAddresses distinct addresses, the network is banned for subnet.bantime (same
//   increment rule, its own history) and its window is cleared. Address windows are not
//   touched, address bans inside it stay until they expire. When one failure triggers both,
//   Decision.bans is [address ban, network ban] in that order.
// - While banned: a failure of a banned address, or inside any banned network (automatic or
//   manual, any prefix), counts for nothing: neither for the address nor its network.
// - ignoreip: an ignored address never counts. A network that overlaps an ignoreip entry is
//   never banned (it keeps counting); a manual ban overlapping one is refused
//   (PbanError engine.ignoredTarget).
// - Wall clock (wall-clock.ts): observe(f, wall) counts a failure dated after `wall` at `wall`
//   (and counts it as futureDated when it is more than CLOCK_TOLERANCE_MS ahead). When the
//   jail's clock is more than CLOCK_TOLERANCE_MS ahead of `wall`, it is set back to `wall` and
//   every window is emptied (clockSetBack); bans stay. So the clock never leads the wall clock
//   by more than the tolerance, and a forged date cannot lift bans or blind the jail.
// - Disorder: otherwise the clock never goes back. A late failure (time < clock) is placed in time
//   order and every window is evaluated at the clock; a ban it triggers starts at the clock.
//   A failure with time ≤ clock − findtime is dropped (Decision reason "ignored"): it would
//   already have left every window. A ban clears the failures counted before it, whatever
//   their time; a late failure that arrives after the ban counts anew.
// - Expiry: a ban is active while until > clock. observe() lifts due bans as its clock moves;
//   expire(now) returns those plus every ban with until ≤ now (reason "expired", time = until).
// - Manual: ban(target, now, duration?) clears the target's window (if it has one) and counts
//   in its history; unban(target, now) lifts it (reason "manual"). They throw PbanError
//   (engine.ignoredTarget, engine.alreadyBanned, engine.notBanned).
//
// Wiring (daemon / replay), per failure f and jail j:
//   for (const l of j.expire(min(f.time, wallNow))) emit unban l   // replay: unbans in time order
//   const d = j.observe(f, wallNow);  if (d.type === 'ban') emit each of d.bans
// then periodically: store.commit({ jails: [j.takeChanges(), …], positions }) and only then
// run the actions; arm the scheduler with min over jails of j.nextExpiry().
// At start: Jail.restore(policy, store.loadJail(name, { findtime, remember })), then
// j.expire(Date.now()) lifts what expired while pban was down; j.activeBans() re-applies.
export { Jail, type JailStatus } from './jail.js';
export type { FailureColumns, JailChanges, JailSnapshot, Lift, RecordedBan, SnapshotBan } from './changes.js';
export type { JailPolicy, IncrementPolicy, SubnetPolicy } from './policy.js';
export { banDuration, banEnd } from './ban-duration.js';
export { CLOCK_TOLERANCE_MS, ClockNoticeThrottle, isFutureDated, type ClockCounters, type ClockNotice } from './wall-clock.js';
export { contains, formatIPv4, formatIPv6, maskIPv4, maskIPv6, networkOf, normaliseTarget, overlaps, parseIPv4, parseIPv6, targetKey } from '../cidr.js';
