// Parses an action reference as written in a jail's `action` list, fail2ban style:
// `nftables`, `iptables[variant=-legacy]`, `nftables[blocktype=reject, priority="filter - 20"]`,
// or a path to an action file, `/etc/pban/actions/mine.toml[opt=x]`. A value may be a list in
// JSON form, for parameters that are commands (argument arrays):
// `command[ban_command=["/usr/local/bin/notify", "{target}", "{failures}"]]`. Pure.

export interface ActionSpec {
  /** A shipped action name or a path to a .toml file. */
  readonly ref: string;
  /** Overrides of the action's [params]: strings, or lists of strings (a command's argv). */
  readonly params: Readonly<Record<string, string | readonly string[]>>;
}

const SPEC_RE = /^([^[\]\s]+)(?:\[(.*)\])?$/s;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PARAM_RE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(\[\s*(?:"(?:[^"\\]|\\.)*"\s*(?:,\s*"(?:[^"\\]|\\.)*"\s*)*)?\])|([^",[\]]*?))\s*(?:,|$)/s;

/** Returns the parsed spec, or an error message naming what is wrong. */
export function parseActionSpec(text: string): ActionSpec | { error: string } {
  const m = SPEC_RE.exec(text.trim());
  const ref = m?.[1];
  if (!m || !ref || !(NAME_RE.test(ref) || ref.includes('/'))) {
    return { error: `invalid action "${text}" (expected NAME, PATH, or NAME[key=value, …])` };
  }
  const params: Record<string, string | string[]> = {};
  let rest = m[2] ?? '';
  while (rest.trim() !== '') {
    const p = PARAM_RE.exec(rest);
    if (!p || !p[1]) return { error: `invalid action parameters in "${text}" (expected key=value or key="value", separated by commas)` };
    if (p[1] in params) return { error: `action parameter "${p[1]}" given twice in "${text}"` };
    if (p[3] !== undefined) {
      // a list of JSON strings (the pattern admits nothing else)
      let list: unknown;
      try {
        list = JSON.parse(p[3]);
      } catch {
        return { error: `invalid list for "${p[1]}" in "${text}" (expected ["a", "b", …] with JSON string escapes)` };
      }
      params[p[1]] = list as string[];
    } else {
      params[p[1]] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[4] ?? '');
    }
    rest = rest.slice(p[0].length);
  }
  return { ref, params };
}
