// Parses a filter reference as written in a jail or on the command line:
// `postfix`, `postfix[mode=aggressive]`, `/etc/pban/filters/mine.toml[mode=strict]`.

export interface FilterSpec {
  /** A shipped filter name or a path to a .toml file. */
  readonly ref: string;
  /** True when ref is a path (contains a slash or ends in .toml). */
  readonly isPath: boolean;
  readonly mode: string | undefined;
}

const SPEC_RE = /^([^[\]]+?)(?:\[\s*mode\s*=\s*([A-Za-z0-9_-]+)\s*\])?$/;

/** Returns the parsed spec, or an error message naming what is wrong. */
export function parseFilterSpec(text: string): FilterSpec | { error: string } {
  const m = SPEC_RE.exec(text.trim());
  if (!m || !m[1]) return { error: `invalid filter reference "${text}" (expected NAME, PATH or NAME[mode=MODE])` };
  const ref = m[1].trim();
  return { ref, isPath: ref.includes('/') || ref.endsWith('.toml'), mode: m[2] };
}
