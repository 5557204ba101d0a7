// The `why` reply, shaped from what the daemon found (WhyData). Pure.
import type { MatchTrace, Target } from '../events.js';
import { kindsOf, targetToString } from '../events.js';
import { banToEntry } from './ban-json.js';
import type { WhyData } from './handlers.js';
import type { TraceEntry, WhyReply } from './types.js';

export function traceEntry(m: MatchTrace): TraceEntry {
  return { time: m.time, kind: m.kind, regex: m.regexId, regexIndex: m.regexIndex, line: m.line };
}

export function whyReply(target: Target, d: WhyData): WhyReply {
  return {
    target: targetToString(target),
    blocked: d.bans.length > 0,
    bans: d.bans.map((b) => ({ ...banToEntry(b.ban), kinds: kindsOf(b.lines), lines: b.lines.map(traceEntry) })),
    failing: d.failing.map((f) => ({ jail: f.jail, failures: f.failures, lines: f.lines.map(traceEntry) })),
  };
}
