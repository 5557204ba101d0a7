// A filter that matches no line: the stand-in of jails that read no log (a jail counting bans,
// see recidive.ts; a retired jail, see retired-jails.ts). Only its name is ever shown.
import type { CompiledFilter, MatchResult } from './compile.js';

const MISSED: MatchResult = Object.freeze({ type: 'missed' });

export function silentFilter(name: string, description: string): CompiledFilter {
  return {
    name,
    description,
    mode: 'none',
    modes: ['none'],
    file: '',
    regexes: [],
    timezone: 'UTC',
    countsForNetwork: () => true,
    match: () => MISSED,
  };
}
