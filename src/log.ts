// The daemon's logger: pino, writing one record per line to stderr, in one of two formats:
//   json  one JSON object per line, for log shippers (`jq`, Loki, …);
//   text  one readable line per record: `<time> <LEVEL> <event> [message] key=value …`.
// `[pban] logformat` chooses; unset, a terminal gets text and anything else JSON.
//
// Under systemd, when stderr is the journal stream (sd-daemon(3): JOURNAL_STREAM holds the
// device and inode of that stream), every line starts with its syslog priority, `<4>` for a
// warning: journald strips it and files the line at that priority, so `journalctl -p warning`
// shows warnings and errors only. The time is left to journald there.
import { fstatSync } from 'node:fs';
import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogFormat } from './config/types.js';

export type { Logger };

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** pino level → syslog priority (RFC 5424: 2 crit, 3 err, 4 warning, 6 info, 7 debug). */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** How the records are written. */
export interface LogOutput {
  readonly format: LogFormat;
  /** Start each line with `<N>` (stderr is the journal). */
  readonly priorityPrefix: boolean;
  /** Put the time in text lines (not for the journal, which stamps every line itself). */
  readonly time: boolean;
}

export interface LogEnvironment {
  /** `[pban] logformat`; undefined: text on a terminal, JSON otherwise. */
  readonly format: LogFormat | undefined;
  readonly stderrIsTTY: boolean;
  /** stderr is the stream systemd connected to the journal. */
  readonly journal: boolean;
}

/** The one decision of how to log: pure, so it is tested without a terminal or a journal. */
export function chooseLogOutput(env: LogEnvironment): LogOutput {
  const format = env.format ?? (env.stderrIsTTY ? 'text' : 'json');
  return { format, priorityPrefix: env.journal, time: !env.journal };
}

/**
 * Whether stderr is the journal stream named by JOURNAL_STREAM ("DEVICE:INODE"). The variable
 * alone is not enough: a child of a service inherits it with its stderr sent elsewhere.
 */
export function isJournalStream(journalStream: string | undefined, stderr: { readonly dev: bigint; readonly ino: bigint } | null): boolean {
  if (journalStream === undefined || stderr === null) return false;
  const m = /^(\d+):(\d+)$/.exec(journalStream.trim());
  return m !== null && BigInt(m[1]!) === stderr.dev && BigInt(m[2]!) === stderr.ino;
}

function stderrIdentity(): { dev: bigint; ino: bigint } | null {
  try {
    const st = fstatSync(2, { bigint: true });
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/** A bare word stays as is; anything with spaces, quotes, `=` or control characters is quoted. */
const BARE = /^[\x21\x23-\x3c\x3e-\x5b\x5d-\x7e]+$/;

function value(v: unknown): string {
  if (typeof v === 'string') return BARE.test(v) ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object' && 'message' in v && typeof (v as { message: unknown }).message === 'string') {
    // pino's serialised error: its message is what a person needs; the stack is in the JSON format.
    return value((v as { message: string }).message);
  }
  return JSON.stringify(v) ?? String(v);
}

/**
 * Turns one pino JSON record into one readable line: `<time> <LEVEL> <event> ["message"] key=value …`.
 * The event is the record's `event` field or its message. Values are quoted when needed, so a
 * log line quoted in a record (attacker text) can never start a line of its own.
 */
export function textLine(json: string, withTime = true): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const { time, level, msg, event, pid: _pid, hostname: _host, ...rest } = rec;
  const parts: string[] = [];
  if (withTime && typeof time === 'number') parts.push(new Date(time).toISOString());
  parts.push((LEVEL_NAMES[level as number] ?? String(level)).padEnd(5));
  const message = typeof msg === 'string' ? msg : '';
  const name = typeof event === 'string' ? event : message;
  parts.push(value(name));
  if (message !== '' && message !== name) parts.push(value(message));
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) parts.push(`${k}=${value(v)}`);
  return `${parts.join(' ')}\n`;
}

/** The level of a pino JSON line, read without parsing it (pino writes it first). */
function levelOf(json: string): number {
  const m = /^\{"level":(\d+)/.exec(json);
  return m ? Number(m[1]) : 30;
}

/** Wraps the destination so each record is written in the chosen output. */
export function formatStream(out: LogOutput, base: DestinationStream): DestinationStream {
  if (out.format === 'json' && !out.priorityPrefix) return base;
  return {
    write(s: string): void {
      const line = out.format === 'text' ? textLine(s, out.time) : s;
      base.write(out.priorityPrefix ? `<${syslogPriority(levelOf(s))}>${line}` : line);
    },
  };
}

export interface LoggerOptions {
  level?: string;
  /** `[pban] logformat`; undefined: text on a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Older spelling of format: true is text, false is JSON. */
  pretty?: boolean;
  destination?: DestinationStream;
  /** Default: the process's (JOURNAL_STREAM, PBAN_LOG_LEVEL). */
  env?: NodeJS.ProcessEnv;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const env = opts.env ?? process.env;
  const level = opts.level ?? env['PBAN_LOG_LEVEL'] ?? 'info';
  const out = chooseLogOutput({
    format: opts.format ?? (opts.pretty === undefined ? undefined : opts.pretty ? 'text' : 'json'),
    stderrIsTTY: opts.destination === undefined && Boolean(process.stderr.isTTY),
    journal: opts.destination === undefined && isJournalStream(env['JOURNAL_STREAM'], stderrIdentity()),
  });
  const base = opts.destination ?? pino.destination({ fd: 2, sync: true });
  return pino({ level, base: undefined }, formatStream(out, base));
}
