// Which kept lines belong to what: a ban's lines are those of its target counted after the
// target's previous clear and up to the ban (its clearSeq), inside the findtime before it; a
// failing target's lines are those counted since its last clear, inside the current window.
// The store keeps the lines (schema version 3); this module only chooses the range.
import type { MatchTrace, Target } from '../events.js';

/** What these functions read from the store (Store implements it). */
export interface TraceReader {
  traceLines(jail: string, target: Target, range: { readonly afterSeq: number; readonly upToSeq: number; readonly afterTime: number }): MatchTrace[];
  lastClearSeq(jail: string, target: Target, belowSeq?: number): number;
}

/** The fields of a stored ban that locate its lines. */
export interface BanRef {
  readonly jail: string;
  readonly target: Target;
  readonly kind: string;
  readonly created: number;
  readonly clearSeq: number;
}

/** The lines that led to `ban`, oldest first; none for a manual ban. */
export function banLines(store: TraceReader, ban: BanRef, findtime: number): MatchTrace[] {
  if (ban.kind === 'manual') return [];
  const after = store.lastClearSeq(ban.jail, ban.target, ban.clearSeq);
  return store.traceLines(ban.jail, ban.target, { afterSeq: after, upToSeq: ban.clearSeq, afterTime: ban.created - findtime });
}

/** The lines of `target` still counting in its window at the jail's clock `clock`. */
export function failingLines(store: TraceReader, jail: string, target: Target, clock: number | null, findtime: number): MatchTrace[] {
  if (clock === null) return [];
  return store.traceLines(jail, target, { afterSeq: store.lastClearSeq(jail, target), upToSeq: Infinity, afterTime: clock - findtime });
}
