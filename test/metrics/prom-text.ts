// Reads the Prometheus text format into `name{label="v",…}` → value, with labels sorted, so a
// test names a series without depending on the order prom-client prints labels in.

export type Samples = Map<string, number>;

export function series(name: string, labels: Record<string, string> = {}): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? name : `${name}{${keys.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}

export function parseProm(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = JSON.parse(`"${l[2]!}"`) as string;
    out.set(series(m[1]!, labels), Number(m[3]));
  }
  return out;
}

/** The value of one series; a series that is absent is reported by name. */
export function value(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const k = series(name, labels);
  const v = samples.get(k);
  if (v === undefined) throw new Error(`no series ${k} in:\n${[...samples.keys()].filter((s) => s.startsWith(name)).join('\n') || '(none with that name)'}`);
  return v;
}
