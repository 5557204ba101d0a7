// `ignorecommand`: an external program that says whether a failing address is a friend
// (fail2ban's ignorecommand). This module owns its rules: the argument array, the `<ip>` tag,
// the timeout and cache bounds. Pure: the config loader calls it; ignore/command-runner.ts runs it.

export interface IgnoreCommandSpec {
  /** The program and its arguments; `<ip>` in an element is replaced by the address. */
  readonly argv: readonly string[];
  /** Kill the program after this long (ms); the address then counts. */
  readonly timeoutMs: number;
  /** How long a verdict is kept per address (ms). */
  readonly cacheMs: number;
}

export const DEFAULT_IGNORE_TIMEOUT_MS = 5_000;
export const DEFAULT_IGNORE_CACHE_MS = 300_000;
/** Longest timeout: the verdict holds up the reading of the log. */
export const MAX_IGNORE_TIMEOUT_MS = 60_000;
/** Addresses whose verdict is kept at most (the oldest go first): a flood cannot grow it without end. */
export const IGNORE_CACHE_ENTRIES = 10_000;
/** Programs run at once at most: a flood of new addresses cannot fork thousands of processes. */
export const IGNORE_CONCURRENCY = 4;

const TAG = /<([^<>\s]*)>/g;

/** Checks an `ignorecommand` value: a problem message, or undefined. */
export function ignoreCommandProblem(argv: readonly string[]): string | undefined {
  if (argv.length === 0) return 'must name a program and its arguments (e.g. ["/usr/local/bin/is-friend", "<ip>"])';
  if (argv[0] === '' || argv[0]!.includes('<')) return 'the program (first element) must be a plain path, without tags';
  if (!argv[0]!.startsWith('/')) return `the program "${argv[0]}" must be an absolute path (the daemon's PATH is not yours)`;
  let ip = false;
  for (const a of argv) {
    if (a.includes('\n') || a.includes('\0')) return 'an argument holds a newline or NUL';
    for (const m of a.matchAll(TAG)) {
      if (m[1] !== 'ip') return `unknown tag <${m[1]}> in "${a}" (only <ip> is replaced)`;
      ip = true;
    }
  }
  if (!ip) return 'no argument holds <ip>: the program would not know which address to judge';
  return undefined;
}

/** The argv for one address: `<ip>` replaced inside its element, which stays one argument. */
export function ignoreArgv(argv: readonly string[], ip: string): string[] {
  return argv.map((a) => a.replaceAll('<ip>', ip));
}

/** What an exit status means: 0 ignore, 1 count, anything else (or a kill) count and warn. */
export function ignoreVerdict(status: number | null): 'ignore' | 'count' | 'error' {
  return status === 0 ? 'ignore' : status === 1 ? 'count' : 'error';
}
