// The daemon's logger: pino JSON by default (for journald and log shippers), one readable
// line per record when stderr is a terminal.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Turns a pino JSON record into `HH:MM:SS LEVEL msg key=value …`. */
export function prettyLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, pid: _pid, hostname: _host, ...rest } = rec;
  const t = typeof time === 'number' ? new Date(time).toISOString().slice(11, 19) : '';
  const lv = (LEVEL_NAMES[level as number] ?? String(level)).padEnd(5);
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${t} ${lv} ${String(msg ?? '')}${extra ? ' ' + extra : ''}\n`;
}

export interface LoggerOptions {
  level?: string;
  /** Force readable (true) or JSON (false); default: readable when stderr is a TTY. */
  pretty?: boolean;
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env['PBAN_LOG_LEVEL'] ?? 'info';
  const pretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  const base = opts.destination ?? pino.destination({ fd: 2, sync: true });
  const dest: DestinationStream = pretty ? { write: (s: string) => base.write(prettyLine(s)) } : base;
  return pino({ level, base: undefined }, dest);
}
