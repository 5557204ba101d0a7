// The filter stage's public face: load a filter by name or path, then match lines with it.
import { existsSync } from 'node:fs';
import { describeFileError, readSmallTextFile } from '../files.js';
import path from 'node:path';
import { ConfigError, PbanError } from '../errors.js';
import { FILTERS_DIR } from '../paths.js';
import { compileFilter, type CompiledFilter } from './compile.js';
import { resolveZone, type Zone } from './dates.js';
import { parseFilterSpec } from './spec.js';
import { fail2banFilterFile, loadFail2banFilter } from './fail2ban/index.js';
import { resolveFilterAlias } from './fail2ban/names.js';

export type { CompiledFilter, FilterRegexInfo, MatchResult } from './compile.js';
export { MAX_LINE_LENGTH, compileFilter } from './compile.js';
export { parseAddress, isStrictIPv4, type ParsedAddress } from './address.js';
export { parseDate, resolveZone, type DateFormat, type ParsedDate, type Zone } from './dates.js';
export { parseFilterSpec, formatFilterSpec, type FilterSpec } from './spec.js';
export { isFail2banFilter, type Fail2banFilter, type F2bFailure } from './fail2ban/index.js';

export interface LoadFilterOptions {
  /** IANA zone for dates written without one; default: the system's. */
  timezone?: string;
  /** Where shipped filters live; default: the package's filters/. */
  filtersDir?: string;
  /** Where `fail2ban:NAME` filters live; default $PBAN_FAIL2BAN_FILTER_DIR or /etc/fail2ban/filter.d. */
  fail2banFilterDir?: string;
  /** Clock for a fail2ban filter's date templates (ms); default: now. */
  now?: number;
  /** fail2ban filters: try every failregex on a line, as fail2ban's sample harness does. */
  checkAllRegex?: boolean;
}

/** Throws a one-line PbanError for an unknown zone name. */
export function zoneFor(timezone: string | undefined): Zone {
  try {
    return resolveZone(timezone);
  } catch {
    throw new PbanError('filter.badTimezone', `unknown time zone "${timezone ?? ''}" (expected an IANA name such as Europe/Berlin)`, { exitCode: 2 });
  }
}

/**
 * Loads `postfix`, `postfix[mode=aggressive]`, or a path to a filter file (optionally with
 * `[mode=…]`). Throws ConfigError naming the file and the offending regex.
 */
export function loadFilter(spec: string, opts: LoadFilterOptions = {}): CompiledFilter {
  let parsed = parseFilterSpec(spec);
  if ('error' in parsed) throw new ConfigError('filter.spec', spec, undefined, parsed.error);
  const zone = zoneFor(opts.timezone);
  if (!parsed.fail2ban && !parsed.isPath && !existsSync(path.join(opts.filtersDir ?? FILTERS_DIR, `${parsed.ref}.toml`))) {
    // A name fail2ban users type (postfix-sasl, sshd, …): our equivalent, or an error naming it.
    const alias = resolveFilterAlias(parsed);
    if (!('error' in alias)) parsed = alias.spec;
  }
  if (parsed.fail2ban) {
    const f2bFile = fail2banFilterFile(parsed.ref, parsed.isPath, opts.fail2banFilterDir);
    return loadFail2banFilter(f2bFile, parsed.options, { zone, filterDir: opts.fail2banFilterDir, now: opts.now, checkAllRegex: opts.checkAllRegex });
  }
  let file: string;
  if (parsed.isPath) file = path.resolve(parsed.ref);
  else {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(parsed.ref)) throw new ConfigError('filter.unknown', parsed.ref, undefined, 'not a filter name');
    file = path.join(opts.filtersDir ?? FILTERS_DIR, `${parsed.ref}.toml`);
    if (!existsSync(file)) throw new ConfigError('filter.unknown', file, undefined, `no shipped filter named "${parsed.ref}"`);
  }
  let text: string;
  try {
    text = readSmallTextFile(file);
  } catch (err) {
    throw new ConfigError('filter.unreadable', file, undefined, `cannot read filter: ${describeFileError(err)}`, { cause: err });
  }
  return compileFilter(text, file, parsed.mode, zone);
}
