// fail2ban filter files (filter.d/*.conf), read unchanged and run with fail2ban's semantics
// behind pban's CompiledFilter interface.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import type { Failure } from '../../events.js';
import { parseAddress } from '../address.js';
import type { CompiledFilter, MatchResult } from '../compile.js';
import type { Zone } from '../dates.js';
import { buildDetector, DatePatternError } from './dates.js';
import { IniError, readFail2banFilter, type Fail2banDefinition } from './definition.js';
import { Fail2banEngine, type F2bFailure } from './engine.js';

export type { F2bFailure } from './engine.js';
export { readFail2banFilter, type Fail2banDefinition } from './definition.js';

export { DEFAULT_FAIL2BAN_FILTER_DIR, fail2banFilterFile } from './location.js';

export interface Fail2banLoadOptions {
  readonly zone: Zone;
  /** Directory of `fail2ban:NAME` filters; default $PBAN_FAIL2BAN_FILTER_DIR or /etc/fail2ban/filter.d. */
  readonly filterDir?: string | undefined;
  /** Clock for year inference while building date templates (ms); default: now. */
  readonly now?: number | undefined;
  /** Every failregex tried on each line (fail2ban's sample harness); default: first match wins. */
  readonly checkAllRegex?: boolean | undefined;
}

/** A CompiledFilter that also answers in fail2ban's own terms. */
export interface Fail2banFilter extends CompiledFilter {
  readonly fail2ban: true;
  readonly definition: Fail2banDefinition;
  /**
   * fail2ban's view of a line: every failure it reports (host text as captured, time in s).
   * `lineNl`: the same line followed by "\n", if the caller has it as one string (see
   * Fail2banEngine.processLine).
   */
  processLine(line: string, now: number, lineNl?: string): readonly F2bFailure[];
  /** A fresh engine over the same definition (multi-line state is per stream of lines). */
  fork(): Fail2banFilter;
}

function originLine(def: Fail2banDefinition | undefined, which: string): { file: string; line: number | undefined } | undefined {
  const o = def?.origin.get(which);
  return o ? { file: o.file, line: o.line } : undefined;
}

/**
 * Loads a fail2ban filter. Errors are ConfigErrors naming the file and line of the option
 * (the regex's own line in a multi-line option) and the construct that cannot be used.
 */
export function loadFail2banFilter(file: string, options: ReadonlyMap<string, string>, opts: Fail2banLoadOptions): Fail2banFilter {
  if (!existsSync(file)) throw new ConfigError('filter.unknown', file, undefined, 'no such fail2ban filter file');
  let def: Fail2banDefinition;
  try {
    def = readFail2banFilter(file, options);
  } catch (err) {
    if (err instanceof IniError) throw new ConfigError('filter.invalid', err.file, err.line, err.message);
    throw err;
  }
  return build(def, opts, file);
}

function build(def: Fail2banDefinition, opts: Fail2banLoadOptions, file: string): Fail2banFilter {
  const now = opts.now ?? Date.now();
  let detector;
  try {
    detector = buildDetector(def.datepattern, now);
  } catch (err) {
    if (err instanceof DatePatternError) {
      const o = originLine(def, 'datepattern');
      throw new ConfigError('filter.invalid', o?.file ?? file, o?.line, err.message);
    }
    throw err;
  }
  const logtype = def.options.get('logtype');
  const engine = new Fail2banEngine(
    {
      prefregex: def.prefregex,
      failregex: def.failregex,
      ignoreregex: def.ignoreregex,
      maxlines: def.maxlines,
      usedns: def.usedns,
      detector,
      zone: opts.zone,
      journal: logtype === 'journal',
      checkAllRegex: opts.checkAllRegex === true,
    },
    (which, index, regex, err) => {
      const o = originLine(def, which);
      // The option's first line plus the regex's place in the list: where it is written
      // when each regex has its own line, as fail2ban's files do.
      const line = o?.line === undefined ? undefined : o.line + (which === 'prefregex' ? 0 : index);
      const shown = regex.length > 160 ? `${regex.slice(0, 160)}…` : regex;
      throw new ConfigError('filter.invalid', o?.file ?? file, line, `${which}${which === 'prefregex' ? '' : ` #${index + 1}`}: ${err.message}: ${JSON.stringify(shown)}`);
    },
  );
  const name = path.basename(file).replace(/\.(?:conf|local)$/, '');
  const mode = def.options.get('mode') ?? 'default';
  const regexes = def.failregex.map((source, i) => ({ id: `failregex-${i + 1}`, kind: name, source }));
  const filter: Fail2banFilter = {
    // fail2ban's files have no kinds: their failures carry no `network` mark, which the engine
    // counts for the network (Jail.observe), so a rebuild from the store must count them too.
    countsForNetwork: () => true,
    fail2ban: true,
    definition: def,
    name,
    description: `fail2ban filter ${file}`,
    mode,
    modes: [mode],
    file,
    regexes,
    timezone: opts.zone.name,
    processLine: (line, nowMs, lineNl) => engine.processLine(line, nowMs, lineNl),
    fork: () => build(def, opts, file),
    match(line: string, nowMs: number): MatchResult {
      if (line.length === 0 || line.length > 16_384) return { type: 'missed' };
      for (const f of engine.processLine(line, nowMs)) {
        // pban bans addresses: a host name (<DNS>) is never resolved, an <F-ID> that is not
        // an address has nothing to ban.
        const addr = parseAddress(f.host);
        if (addr === null) continue;
        if (f.time === null) return { type: 'undated', regex: f.regex };
        const fields: Record<string, string> = {};
        for (const [k, v] of Object.entries(f.fields)) if (k !== 'ip4' && k !== 'ip6' && k !== 'dns' && k !== 'fid') fields[k] = v;
        const failure: Failure = { time: Math.round(f.time * 1000), ip: addr.address, family: addr.family, filter: name, kind: name, fields };
        return { type: 'failure', regex: f.regex, failure, dateFormat: 'fail2ban' };
      }
      return { type: 'missed' };
    },
  };
  return filter;
}

export function isFail2banFilter(f: CompiledFilter): f is Fail2banFilter {
  return (f as Partial<Fail2banFilter>).fail2ban === true;
}
