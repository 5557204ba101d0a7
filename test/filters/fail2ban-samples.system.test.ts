// Conformance with fail2ban's own annotated sample logs for its postfix and dovecot filters.
// The samples come from Debian's fail2ban package, which scripts/setup-test-env.sh fetches with
// `apt-get download` and unpacks with `dpkg-deb -x`: never installed, since its daemon would
// start and rewrite the host firewall. Missing samples fail this test; it is never skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadFilter } from '../../src/filters/index.js';
import { resolveZone } from '../../src/filters/dates.js';
import { fail2banSampleLogs } from '../helpers/system.js';

// fail2ban's tests run with TZ=CET-01CEST-02,M3.5.0,M10.5.0 (the EU rules, as Europe/Paris
// had them in 2004–2005) and the clock fixed at 2005-08-14 10:00:00 UTC.
const TEST_ZONE = 'Europe/Paris';
const TEST_NOW = Date.UTC(2005, 7, 14, 10, 0, 0);

interface Sample {
  lineNo: number;
  text: string;
  expect: { match: boolean; host?: string; time?: string; desc?: string };
  options: Record<string, unknown>[];
}

/** Reads the `# filterOptions:` blocks and the `# failJSON:` line that precedes each sample. */
function parseSamples(file: string): Sample[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: Sample[] = [];
  let options: Record<string, unknown>[] = [{}];
  let pending: Sample['expect'] | null = null;
  lines.forEach((line, i) => {
    const d = /^#+ ?(failJSON|filterOptions|fileOptions|addFILE):(.+)$/.exec(line);
    if (d) {
      const value = JSON.parse(d[2] as string) as unknown;
      if (d[1] === 'filterOptions') options = Array.isArray(value) ? (value as Record<string, unknown>[]) : [value as Record<string, unknown>];
      else if (d[1] === 'failJSON') pending = value as Sample['expect'];
      return;
    }
    if (line.startsWith('#') || line.trim() === '') return;
    if (pending) out.push({ lineNo: i + 1, text: line, expect: pending, options });
    pending = null;
  });
  return out;
}

/** fail2ban's expected times are local wall times, sometimes with an unpadded day. */
function expectedTime(text: string): number {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(text);
  assert.ok(m, `unreadable failJSON time ${text}`);
  const n = (k: number) => Number(m[k]);
  return resolveZone(TEST_ZONE).toUtc(n(1), n(2) - 1, n(3), n(4), n(5), n(6), m[7] ? Number(`0.${m[7]}`) * 1000 : 0);
}

for (const name of ['postfix', 'dovecot']) {
  test(`fail2ban's ${name} samples give the same verdicts and addresses`, () => {
    const samples = parseSamples(path.join(fail2banSampleLogs(), name));
    assert.ok(samples.length >= 40, `only ${samples.length} annotated lines in fail2ban's ${name} sample`);
    const problems: string[] = [];
    let checks = 0;
    for (const s of samples) {
      for (const opt of s.options) {
        // fail2ban's postfix filter defaults to its mode "more"; pban's to "inbound" (filters/README.md).
        const mode = typeof opt.mode === 'string' ? opt.mode : name === 'postfix' ? 'more' : undefined;
        const filter = loadFilter(mode ? `${name}[mode=${mode}]` : name, { timezone: TEST_ZONE });
        const r = filter.match(s.text, TEST_NOW);
        const where = `${name}:${s.lineNo} [mode=${filter.mode}]`;
        checks++;
        if (!s.expect.match) {
          if (r.type === 'failure') problems.push(`${where}: expected no match, got ${r.failure.ip} (${filter.regexes[r.regex]?.id}): ${s.text}`);
          continue;
        }
        if (r.type !== 'failure') {
          problems.push(`${where}: expected ${s.expect.host ?? 'a match'}, got ${r.type}: ${s.text}`);
          continue;
        }
        if (s.expect.host !== undefined && r.failure.ip !== s.expect.host) problems.push(`${where}: expected ${s.expect.host}, got ${r.failure.ip}: ${s.text}`);
        if (s.expect.time !== undefined) {
          const want = expectedTime(s.expect.time);
          // fail2ban compares whole seconds when the sample gives none (TAI64N lines carry ns).
          const got = s.expect.time.includes('.') ? r.failure.time : Math.floor(r.failure.time / 1000) * 1000;
          if (got !== want) problems.push(`${where}: expected time ${new Date(want).toISOString()}, got ${new Date(r.failure.time).toISOString()}: ${s.text}`);
        }
      }
    }
    assert.deepEqual(problems, [], `${problems.length} of ${checks} checks failed:\n${problems.join('\n')}`);
  });
}
