// A store in plain arrays with the same commit/snapshot contract as src/store, so engine tests
// can check a restart (takeChanges → snapshot → Jail.restore) without SQLite.
import type { JailChanges, JailSnapshot, SnapshotBan } from '../../src/engine/changes.js';
import type { LiftReason } from '../../src/events.js';

export class MemoryStore {
  private clock: number | null = null;
  private seq = 0;
  private totalFailed = 0;
  private totalBanned = 0;
  private failures: { seq: number; time: number; address: string; kind: string }[] = [];
  private bans: { ban: SnapshotBan; active: boolean; liftReason: LiftReason | null }[] = [];

  /** prune=false keeps every failure, so a restore must rely on the time cutoff alone. */
  constructor(private readonly prune = true) {}

  commit(c: JailChanges): void {
    this.clock = c.clock;
    this.seq = c.seq;
    this.totalFailed = c.totalFailed;
    this.totalBanned = c.totalBanned;
    for (let i = 0; i < c.failures.seq.length; i++) {
      this.failures.push({ seq: c.failures.seq[i]!, time: c.failures.time[i]!, address: c.failures.address[i]!, kind: c.failures.kind[i]! });
    }
    if (this.prune) this.failures = this.failures.filter((f) => f.seq >= c.pruneBelowSeq);
    for (const b of c.bans) this.bans.push({ ban: { ...b, active: true }, active: true, liftReason: null });
    for (const l of c.lifts) {
      const row = this.bans.find(
        (r) => r.active && r.ban.target.addr === l.ban.target.addr && r.ban.target.prefix === l.ban.target.prefix && r.ban.created === l.ban.created,
      );
      if (row === undefined) throw new Error(`lift of an unknown ban ${l.ban.target.addr}/${l.ban.target.prefix}`);
      row.active = false;
      row.liftReason = l.reason;
    }
  }

  get storedFailures(): number {
    return this.failures.length;
  }

  snapshot(): JailSnapshot {
    const f = [...this.failures].sort((a, b) => a.seq - b.seq);
    return {
      clock: this.clock,
      seq: this.seq,
      totalFailed: this.totalFailed,
      totalBanned: this.totalBanned,
      failures: { seq: f.map((x) => x.seq), time: f.map((x) => x.time), address: f.map((x) => x.address), kind: f.map((x) => x.kind) },
      bans: this.bans.map((r) => ({ ...r.ban, active: r.active, liftReason: r.liftReason })),
    };
  }
}
