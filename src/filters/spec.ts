// Parses a filter reference as written in a jail or on the command line:
// `postfix`, `postfix[mode=aggressive]`, `/etc/pban/filters/mine.toml[mode=strict]`,
// and fail2ban filters: `/etc/fail2ban/filter.d/sshd.conf[mode=aggressive]`,
// `fail2ban:sshd[mode=aggressive, logtype=journal]` (options as fail2ban's jail.conf writes them).

export interface FilterSpec {
  /** A shipped filter name, a fail2ban filter name, or a path to a filter file. */
  readonly ref: string;
  /** True when ref is a path (contains a slash or ends in .toml, .conf or .local). */
  readonly isPath: boolean;
  readonly mode: string | undefined;
  /** A fail2ban filter: `fail2ban:NAME` or a path ending in .conf/.local. */
  readonly fail2ban: boolean;
  /** All options in brackets, in order (mode included). */
  readonly options: ReadonlyMap<string, string>;
}

const SPEC_RE = /^(fail2ban:)?([^[\]]+?)(?:\[(.*)\])?$/s;
const NATIVE_MODE_RE = /^[A-Za-z0-9_-]+$/;

/** `a=1, b="x, y", c='z'` → map; null when malformed. */
function parseOptions(text: string): Map<string, string> | null {
  const out = new Map<string, string>();
  const re = /\s*([\w.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^,]*?))\s*(?:,|$)/gy;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m || m[0] === '') return null;
    out.set((m[1] as string).toLowerCase(), m[2] ?? m[3] ?? m[4] ?? '');
    at = re.lastIndex;
  }
  return out;
}

/** Returns the parsed spec, or an error message naming what is wrong. */
export function parseFilterSpec(text: string): FilterSpec | { error: string } {
  const m = SPEC_RE.exec(text.trim());
  const bad = { error: `invalid filter reference "${text}" (expected NAME, PATH, NAME[mode=MODE] or fail2ban:NAME[option=value, …])` };
  if (!m || !m[2]) return bad;
  const ref = m[2].trim();
  const options = m[3] === undefined ? new Map<string, string>() : parseOptions(m[3]);
  if (options === null) return bad;
  const fail2ban = m[1] !== undefined || /\.(?:conf|local)$/.test(ref);
  const isPath = m[1] === undefined && (ref.includes('/') || /\.(?:toml|conf|local)$/.test(ref));
  if (m[1] !== undefined && (ref.includes('/') || !/^[A-Za-z0-9][\w.-]*$/.test(ref))) {
    return { error: `invalid fail2ban filter name "${ref}" (fail2ban:NAME looks NAME.conf up in the filter.d directory; give a path to use a file elsewhere)` };
  }
  const mode = options.get('mode');
  if (!fail2ban) {
    // pban's own filters take one option, the mode.
    if ([...options.keys()].some((k) => k !== 'mode') || (mode !== undefined && !NATIVE_MODE_RE.test(mode))) return bad;
  }
  return { ref, isPath, mode, fail2ban, options };
}

/** Writes a spec back, e.g. after a relative path was made absolute. */
export function formatFilterSpec(spec: FilterSpec): string {
  const opts = [...spec.options].map(([k, v]) => (/^[\w./:-]*$/.test(v) ? `${k}=${v}` : `${k}="${v.replace(/["\\]/g, '\\$&')}"`));
  return `${spec.fail2ban && !spec.isPath ? 'fail2ban:' : ''}${spec.ref}${opts.length ? `[${opts.join(', ')}]` : ''}`;
}
