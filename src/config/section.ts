// A typed reader over one TOML table. Every read either returns a checked value or throws a
// ConfigError that names the file, the line of the key, and the key's full dotted path.
import { ConfigError } from '../errors.js';
import { describeType, parseDuration, type Duration } from './duration.js';
import type { KeyLines } from './key-lines.js';

export type KeyPath = readonly (string | number)[];

export interface ConfigSource {
  readonly file: string;
  readonly lines: KeyLines;
}

type Table = Record<string, unknown>;

export function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** `jails.postfix.subnet`, quoting parts that are not bare keys. */
export function formatPath(path: KeyPath): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${/^[A-Za-z0-9_-]+$/.test(p) ? p : JSON.stringify(p)}`))
    .join('');
}

export function configError(src: ConfigSource, path: KeyPath, detail: string, code = 'config.invalidValue'): ConfigError {
  const where = path.length === 0 ? '' : `${formatPath(path)}: `;
  return new ConfigError(code, src.file, src.lines.lineOf(path), `${where}${detail}`);
}

export class Section {
  private constructor(
    readonly src: ConfigSource,
    readonly path: KeyPath,
    private readonly table: Table,
  ) {}

  /** Wraps `value` found at `path`, which must be a table. */
  static at(src: ConfigSource, path: KeyPath, value: unknown): Section {
    if (!isTable(value)) throw configError(src, path, `expected a table, got ${describeType(value)}`, 'config.wrongType');
    return new Section(src, path, value);
  }

  keyNames(): string[] {
    return Object.keys(this.table);
  }

  has(key: string): boolean {
    return this.table[key] !== undefined;
  }

  fail(key: string | undefined, detail: string, code = 'config.invalidValue'): never {
    throw configError(this.src, key === undefined ? this.path : [...this.path, key], detail, code);
  }

  /** Rejects any key not in `allowed`, suggesting the nearest allowed one. */
  allowOnly(allowed: readonly string[]): void {
    for (const key of Object.keys(this.table)) {
      if (allowed.includes(key)) continue;
      const near = nearest(key, allowed);
      // The message names the table, as the admin reads it; the line is the key's own.
      const where = this.path.length === 0 ? 'top level' : formatPath(this.path);
      throw new ConfigError('config.unknownKey', this.src.file, this.src.lines.lineOf([...this.path, key]),
        `${where}: unknown key "${key}"${near ? ` (did you mean "${near}"?)` : ` (expected one of: ${allowed.join(', ')})`}`);
    }
  }

  child(key: string): Section | undefined {
    const v = this.table[key];
    return v === undefined ? undefined : Section.at(this.src, [...this.path, key], v);
  }

  string(key: string): string | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(key, `expected a string, got ${describeType(v)}`, 'config.wrongType');
    if (v.trim() === '') this.fail(key, 'must not be empty');
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(key, `expected true or false, got ${describeType(v)}`, 'config.wrongType');
    return v;
  }

  int(key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `expected an integer, got ${describeType(v)}`, 'config.wrongType');
    if (v < min || v > max) {
      this.fail(key, max === Number.MAX_SAFE_INTEGER ? `must be at least ${min}, got ${v}` : `must be between ${min} and ${max}, got ${v}`);
    }
    return v;
  }

  number(key: string, min: number): number | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `expected a number, got ${describeType(v)}`, 'config.wrongType');
    if (v < min) this.fail(key, `must be at least ${min}, got ${v}`);
    return v;
  }

  /** A duration in ms; null (permanent) only when `permanent` allows it. */
  duration(key: string, permanent: boolean): Duration | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    const d = parseDuration(v);
    if (d !== null && typeof d === 'object') this.fail(key, d.error, 'config.badDuration');
    if (d === null && !permanent) this.fail(key, 'cannot be permanent (-1) here', 'config.badDuration');
    return d;
  }

  /** A string or an array of strings, returned as an array; `at` gives each element's path. */
  stringList(key: string): { value: string; path: KeyPath }[] | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    const items = Array.isArray(v) ? v : [v];
    return items.map((item, i) => {
      const path = Array.isArray(v) ? [...this.path, key, i] : [...this.path, key];
      if (typeof item !== 'string') {
        throw configError(this.src, path, `expected ${Array.isArray(v) ? 'strings' : 'a string or an array of strings'}, got ${describeType(item)}`, 'config.wrongType');
      }
      if (item.trim() === '') throw configError(this.src, path, 'must not be empty');
      return { value: item.trim(), path };
    });
  }

  raw(key: string): unknown {
    return this.table[key];
  }
}

/** The allowed key closest to a misspelt one, if it is plausibly a typo. */
export function nearest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const k = key.toLowerCase();
  for (const a of allowed) {
    const d = k === a ? 0 : editDistance(k, a);
    if (d < bestDist) {
      best = a;
      bestDist = d;
    }
  }
  // Up to 40% of the longer word may differ: maxretries → maxretry (3 edits) is a typo,
  // colour → socket is not.
  return best !== undefined && bestDist <= Math.max(1, Math.ceil(Math.max(k.length, best.length) * 0.4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
