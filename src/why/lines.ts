// The lines behind a ban, as the store keeps them (schema version 4): copied there with the ban,
// kept while it is active. Lines of an address that is failing but not banned live in its
// jail's memory (Jail.linesOf).
import type { MatchTrace, Target } from '../events.js';

/** What this module reads from the store (Store implements it). */
export interface TraceReader {
  banLines(jail: string, target: Target, created: number): MatchTrace[];
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
