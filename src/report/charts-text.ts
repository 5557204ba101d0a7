// Charts made of characters: a sparkline (one cell per bucket, eight heights) and horizontal
// bars. Unicode block elements on a UTF-8 terminal, plain ASCII elsewhere.

const SPARK_UNICODE = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const SPARK_ASCII = ['.', ',', ':', '-', '=', '+', '*', '#'];
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** One character per value, scaled to `max` (default: the largest); a zero is a blank. */
export function sparkline(values: readonly number[], unicode: boolean, max = Math.max(0, ...values)): string {
  const levels = unicode ? SPARK_UNICODE : SPARK_ASCII;
  let out = '';
  for (const v of values) {
    if (v <= 0 || max <= 0) out += ' ';
    else out += levels[Math.min(7, Math.max(0, Math.ceil((v / max) * 8) - 1))];
  }
  return out;
}

/** A bar `width` columns long at `max`; Unicode bars have eighth-column resolution. */
export function bar(value: number, max: number, width: number, unicode: boolean): string {
  if (value <= 0 || max <= 0) return '';
  const cells = (Math.min(value, max) / max) * width;
  if (!unicode) return '#'.repeat(Math.max(1, Math.round(cells)));
  const eighths = Math.round(cells * 8);
  const s = '█'.repeat(Math.floor(eighths / 8)) + (EIGHTHS[eighths % 8] ?? '');
  return s === '' ? '▏' : s;
}

/** Whether the locale says the terminal takes UTF-8 (LC_ALL, then LC_CTYPE, then LANG). */
export function utf8Locale(env: NodeJS.ProcessEnv): boolean {
  const v = env['LC_ALL'] || env['LC_CTYPE'] || env['LANG'] || '';
  return /utf-?8/i.test(v);
}
