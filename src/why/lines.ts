// Which kept lines belong to what. A ban keeps copies of the lines behind it (the store writes
// them with the ban); a failing address's lines are those of its failures still counting: after
// its last clear (a ban clears the window) and inside the jail's findtime.
import type { MatchTrace, Target } from '../events.js';

/** What these functions read from the store (Store implements it). */
export interface TraceReader {
  banLines(jail: string, target: Target, created: number): MatchTrace[];
  failureLines(jail: string, address: string, range: { readonly afterSeq: number; readonly afterTime: number }): MatchTrace[];
  lastClearSeq(jail: string, target: Target): number;
}

/** The fields of a ban that locate its lines. */
export interface BanRef {
  readonly jail: string;
  readonly target: Target;
  readonly kind: string;
  readonly created: number;
}

/** The lines that led to `ban`, oldest first; none for a manual ban. */
export function banLines(store: TraceReader, ban: BanRef): MatchTrace[] {
  if (ban.kind === 'manual') return [];
  return store.banLines(ban.jail, ban.target, ban.created);
}

/** The lines of the address `target` still counting in its window, at the jail's clock `clock`. */
export function failingLines(store: TraceReader, jail: string, target: Target, clock: number | null, findtime: number): MatchTrace[] {
  if (clock === null) return [];
  return store.failureLines(jail, target.addr, { afterSeq: store.lastClearSeq(jail, target), afterTime: clock - findtime });
}
