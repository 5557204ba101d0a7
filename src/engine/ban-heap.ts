// Active bans with an end, ordered by `until`, so the next expiry is one look away.
// A ban lifted early (manual unban) stays in the heap marked `lifted` and is skipped.
import type { RecordedBan } from './changes.js';

export interface ActiveBan {
  readonly ban: RecordedBan;
  readonly key: string;
  lifted: boolean;
}

export class BanHeap {
  private readonly items: ActiveBan[] = [];

  /** The earliest-ending ban still active, or null. */
  peek(): ActiveBan | null {
    while (this.items.length > 0 && this.items[0]!.lifted) this.pop();
    return this.items[0] ?? null;
  }

  push(ab: ActiveBan): void {
    const h = this.items;
    h.push(ab);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): void {
    const h = this.items;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** Orders by until, then by creation and clearSeq so equal ends lift in the order they were made. */
function before(a: ActiveBan, b: ActiveBan): boolean {
  const ua = a.ban.until!;
  const ub = b.ban.until!;
  if (ua !== ub) return ua < ub;
  if (a.ban.created !== b.ban.created) return a.ban.created < b.ban.created;
  return a.ban.clearSeq < b.ban.clearSeq;
}
