// Numbers for people.

/**
 * 1234567 → "1,234,567", as toLocaleString('en-US') writes it, without loading ICU's number
 * formatting at the end of every run.
 */
export function groupDigits(x: number): string {
  if (!Number.isSafeInteger(x) || x < 0) return x.toLocaleString('en-US');
  const s = String(x);
  let out = s.slice(0, ((s.length - 1) % 3) + 1);
  for (let i = out.length; i < s.length; i += 3) out += `,${s.slice(i, i + 3)}`;
  return out;
}
