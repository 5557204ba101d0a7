// What `postsuper -d|-h|-H -` says it did, one line per message on stderr:
// "postsuper: 7F8DA2244F6: removed", "…: placed on hold", "…: released from hold". A queue id
// that is no longer there gets no line at all, so whatever is not named here was not touched.
export type SuperOperation = 'delete' | 'hold' | 'release';

export const SUPER_FLAG: Readonly<Record<SuperOperation, string>> = { delete: '-d', hold: '-h', release: '-H' };

const DONE_WORDS: Readonly<Record<SuperOperation, string>> = { delete: 'removed', hold: 'placed on hold', release: 'released from hold' };

/** The queue ids postsuper reports as done by `op`. */
export function parsePostsuperDone(stderr: string, op: SuperOperation): Set<string> {
  const done = new Set<string>();
  const suffix = `: ${DONE_WORDS[op]}`;
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    const m = /^postsuper: ([0-9A-Za-z]+): (.+)$/.exec(line);
    if (m && `: ${m[2]}` === suffix) done.add(m[1]!);
  }
  return done;
}

/** postsuper's warnings and errors (everything but its per-message and total lines). */
export function postsuperWarnings(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^postsuper: [0-9A-Za-z]+: (removed|placed on hold|released from hold)$/.test(l) && !/^postsuper: (Deleted|Placed on hold|Released from hold|Requeued): \d+ messages?$/.test(l));
}
