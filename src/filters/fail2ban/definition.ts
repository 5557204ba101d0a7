// Turns a fail2ban filter file into its settings as fail2ban's filter reader does: the
// [Definition] options interpolated with the jail's options (`name[mode=aggressive]`),
// [Init] values as defaults of those options, then `<tag>` substitution, recursively,
// with whatever the file defines.
import { IniConfig, IniError, readFail2banConfig } from './ini.js';

export interface Fail2banDefinition {
  readonly file: string;
  readonly prefregex: string | undefined;
  readonly failregex: readonly string[];
  readonly ignoreregex: readonly string[];
  readonly maxlines: number;
  readonly datepattern: string | undefined;
  readonly journalmatch: readonly string[];
  readonly usedns: string | undefined;
  /** The options in effect (jail's over [Init]'s), e.g. mode, logtype. */
  readonly options: ReadonlyMap<string, string>;
  /** Where each option was written, for error messages: option → [file, line]. */
  readonly origin: ReadonlyMap<string, { file: string; line: number }>;
}

const FILTER_OPTS = ['usedns', 'prefregex', 'ignoreregex', 'failregex', 'maxlines', 'datepattern', 'journalmatch'] as const;
const MAX_TAG_REPLACE = 25;

export function readFail2banFilter(file: string, jailOptions: ReadonlyMap<string, string>): Fail2banDefinition {
  const cfg = readFail2banConfig(file);
  if (!cfg.sections.has('Definition')) throw new IniError(file, undefined, 'no [Definition] section: not a fail2ban filter file');
  const pOpts = new Map<string, string>();
  for (const [k, v] of jailOptions) pOpts.set(k.toLowerCase(), v);

  const opts = new Map<string, string>();
  const origin = new Map<string, { file: string; line: number }>();
  for (const o of FILTER_OPTS) {
    if (!cfg.has('Definition', o)) continue;
    const v = cfg.get('Definition', o, pOpts);
    if (v !== undefined) opts.set(o, v);
    const r = cfg.raw('Definition', o);
    if (r) origin.set(o, { file: r.file, line: r.line });
  }
  // [Init]: defaults for the jail's options, and `known/…` copies of them.
  const initOpts = new Map(pOpts);
  for (const o of cfg.options('Init')) {
    const v = cfg.get('Init', o, new Map());
    if (v === undefined) continue;
    if (!o.startsWith('known/')) initOpts.set(`known/${o}`, v);
    if (!initOpts.has(o)) initOpts.set(o, v);
  }
  const combined = new Map(opts);
  for (const [k, v] of initOpts) combined.set(k, v);

  const combCache = new Map<string, string | undefined>();
  const combOption = (name: string): string | undefined => {
    if (combCache.has(name)) return combCache.get(name);
    let v: string | undefined;
    try {
      v = cfg.get('Definition', name, pOpts);
    } catch (err) {
      if (!(err instanceof IniError)) throw err;
      v = undefined;
    }
    combCache.set(name, v);
    return v;
  };
  const resolved = substituteTags(combined, combOption, file);

  const lines = (v: string | undefined) => (v === undefined ? [] : v.split('\n').filter((x) => x !== ''));
  const maxlinesText = resolved.get('maxlines');
  let maxlines = 1;
  if (maxlinesText !== undefined && maxlinesText.trim() !== '') {
    maxlines = Number(maxlinesText);
    if (!Number.isInteger(maxlines) || maxlines < 1) {
      const o = origin.get('maxlines');
      throw new IniError(o?.file ?? file, o?.line, `maxlines must be a positive integer, not "${maxlinesText}"`);
    }
  }
  const options = new Map<string, string>();
  for (const [k, v] of initOpts) if (!k.startsWith('known/')) options.set(k, v);
  const pref = resolved.get('prefregex');
  const dp = resolved.get('datepattern');
  return {
    file,
    prefregex: pref === undefined || pref.trim() === '' ? undefined : pref,
    failregex: lines(resolved.get('failregex')),
    ignoreregex: lines(resolved.get('ignoreregex')),
    maxlines,
    datepattern: dp === undefined || dp.trim() === '' ? undefined : dp,
    journalmatch: lines(resolved.get('journalmatch')),
    usedns: resolved.get('usedns'),
    options,
    origin,
  };
}

/** fail2ban's `<name>` substitution: innermost tags first, unknown tags (<HOST>, <F-…>) left as they are. */
function substituteTags(tags: ReadonlyMap<string, string>, extra: (name: string) => string | undefined, file: string): Map<string, string> {
  const out = new Map(tags);
  const TAG = /<([^ <>]+)>/g;
  const counts = new Map<string, Map<string, number>>();
  const done = new Set<string>();
  // Passes until nothing changes: a replacement can complete an outer tag (<lt_<logtype>/x>).
  for (let pass = 0; pass < 100; pass++) {
    let again = false;
    for (const [tag, orig] of out) {
      if (done.has(tag)) continue;
      let value = orig;
      const rplc = counts.get(tag) ?? new Map<string, number>();
      TAG.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = TAG.exec(value)) !== null) {
        const name = m[1] as string;
        if (name === tag || (rplc.get(name) ?? 0) > MAX_TAG_REPLACE) {
          throw new IniError(file, undefined, `"${tag}" refers to itself through <${name}> and cannot be resolved`);
        }
        const repl = out.has(name) ? out.get(name) : extra(name);
        if (repl === undefined) continue;
        value = value.split(`<${name}>`).join(repl);
        rplc.set(name, (rplc.get(name) ?? 0) + 1);
        TAG.lastIndex = m.index;
      }
      if (value !== orig) {
        TAG.lastIndex = 0;
        if (TAG.test(value)) {
          counts.set(tag, rplc);
          again = true;
        }
        out.set(tag, value);
      }
      if (!value.includes('<')) done.add(tag);
    }
    if (!again) break;
  }
  return out;
}

export { IniConfig, IniError };
