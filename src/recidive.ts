// Repeat offenders across jails (fail2ban's `recidive`): a jail with `source = "bans"` reads no
// log; it counts the bans the other jails make, as its failures, per address, in its own sliding
// window (findtime, maxretry), and bans through its own actions (every port by default). Its
// window is stored and restored like any jail's; a bans jail that has never counted anything is
// first filled from the store's ban history of every jail (the bans inside its findtime).
//
// What counts: automatic address bans of a jail that reads logs. Not counted: manual bans (the
// admin decided those already), network bans (recidive is per address), and the bans of a
// bans jail itself, so a recidive ban never feeds recidive.
import type { Ban, Failure } from './events.js';
import type { CompiledFilter } from './filters/index.js';
import { silentFilter } from './filters/silent.js';

/** The `source` of a jail that counts bans. */
export const BANS_SOURCE = 'bans';

/** The filter name a bans jail reports, and the kind of each failure it counts. */
export const BANS_FILTER: CompiledFilter = silentFilter('bans', 'counts the bans of the other jails (source = "bans")');

/** Whether a ban made by a jail counts towards the bans jails (see above). */
export function countsAsRecidive(ban: Pick<Ban, 'kind'>, byBansJail: boolean): boolean {
  return ban.kind === 'address' && !byBansJail;
}

/** A ban, as the failure a bans jail counts: at the ban's time, kind "ban:JAIL". */
export function banAsFailure(ban: Ban): Failure {
  return { time: ban.created, ip: ban.target.addr, family: ban.target.family, filter: 'bans', kind: `ban:${ban.jail}`, network: false, fields: {} };
}
