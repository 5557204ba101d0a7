// Which active bans block an address (or a network): a ban on the target itself, or on any
// network that contains it, in any jail. Pure.
import type { Ban, Target } from '../events.js';
import { contains } from '../cidr.js';

/** The bans in `bans` that cover `target`, widest network first, then by jail and time. */
export function coveringBans<B extends Ban>(bans: Iterable<B>, target: Target): B[] {
  const out: B[] = [];
  for (const b of bans) if (contains(b.target, target)) out.push(b);
  return out.sort((x, y) => x.target.prefix - y.target.prefix || (x.jail < y.jail ? -1 : x.jail > y.jail ? 1 : 0) || x.created - y.created);
}

/** Covering bans other than on `target` itself: the networks an unban of `target` leaves in place. */
export function coveringNetworks<B extends Ban>(bans: Iterable<B>, target: Target): B[] {
  return coveringBans(bans, target).filter((b) => b.target.prefix !== target.prefix);
}
