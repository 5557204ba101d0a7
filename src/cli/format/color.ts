// Colour for people, never for pipes: only when the stream is a terminal and NO_COLOR
// (https://no-color.org) is unset or empty.

export interface Palette {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const noColor = env['NO_COLOR'];
  return stream.isTTY === true && (noColor === undefined || noColor === '') && env['TERM'] !== 'dumb';
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string): string => s;

export const ANSI: Palette = { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39) };
export const PLAIN: Palette = { bold: plain, dim: plain, red: plain, green: plain, yellow: plain };

export function paletteFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Palette {
  return colorEnabled(stream, env) ? ANSI : PLAIN;
}

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\x1b\[[0-9;]*m/g;

/** Width on screen: escape sequences take no columns. */
export function visibleWidth(s: string): number {
  return s.includes('\x1b') ? s.replace(ANSI_RE, '').length : s.length;
}
