// The JSON of one active ban, as `pban banned --json` prints it. With 100,000 bans this runs
// 100,000 times per request, within a 200 ms budget that also pays for process start, so it is
// written by hand rather than through JSON.stringify on a fresh object per ban (profiled: that
// doubled the garbage and the time). A test pins byte equality with JSON.stringify(banToEntry(b)).
// (A byte-level writer into a Buffer was tried and measured no faster than this.)
import type { Ban } from '../events.js';
import { targetToString } from '../events.js';
import type { BannedEntry } from './types.js';

export function banToEntry(b: Ban): BannedEntry {
  return {
    target: targetToString(b.target),
    jail: b.jail,
    kind: b.kind,
    failures: b.failures,
    bannedAt: b.created,
    expiresAt: b.until,
    banNumber: b.banNumber,
  };
}

/** As JSON.stringify writes a number (NaN and infinities become null). */
function num(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** Needs no JSON escaping: true for every address the validators mint and every BanKind. */
function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Serialises bans with one JSON.stringify per distinct jail name, not per ban. */
export class BanJsonWriter {
  private readonly jails = new Map<string, string>();

  private jailJson(jail: string): string {
    let s = this.jails.get(jail);
    if (s === undefined) this.jails.set(jail, (s = JSON.stringify(jail)));
    return s;
  }

  entry(b: Ban): string {
    const t = b.target;
    if (!isPlain(t.addr) || !isPlain(b.kind)) return JSON.stringify(banToEntry(b));
    return (
      `{"target":"${t.addr}/${t.prefix}","jail":${this.jailJson(b.jail)},"kind":"${b.kind}","failures":${num(b.failures)},` +
      `"bannedAt":${num(b.created)},"expiresAt":${b.until === null ? 'null' : num(b.until)},"banNumber":${num(b.banNumber)}}`
    );
  }

  /** bans[start..end) joined by `separator`, with a leading separator when `leading`. */
  encode(bans: readonly Ban[], start: number, end: number, separator: string, leading: boolean): string {
    const parts: string[] = [];
    for (let i = start; i < end; i++) parts.push(this.entry(bans[i]!));
    return (leading ? separator : '') + parts.join(separator);
  }
}
