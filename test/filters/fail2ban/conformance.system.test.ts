// Conformance with fail2ban's whole sample suite (91 filters, ~1,600 cases): every annotated
// line of the Debian 12 package's sample logs, run through `pban test-filter` on fail2ban's
// own filter.d files, unchanged, and judged as fail2ban's harness judges it (harness.ts).
// The package is unpacked (never installed) by scripts/setup-test-env.sh; a missing package
// fails this test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FILTER_D, LOGS, listFilters, runFilter, type Outcome } from './harness.js';

// The floor is what the reader achieves (all 1,627 cases, see docs/migrating-from-fail2ban.md):
// any regression fails. The filters the issue names must stay perfect on their own too.
const OVERALL_FLOOR = 1;
const MUST_BE_PERFECT = ['sshd', 'postfix', 'dovecot', 'roundcube-auth', 'nginx-http-auth', 'apache-auth', 'courier-auth', 'sieve', 'exim', 'recidive'];

function runSuite(checkAllRegex: boolean): void {
  assert.ok(existsSync(FILTER_D), `no fail2ban filter.d at ${FILTER_D}: run scripts/setup-test-env.sh`);
  assert.ok(existsSync(LOGS), `no fail2ban sample logs at ${LOGS}: run scripts/setup-test-env.sh`);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'pban-conformance-'));
  const filters = listFilters();
  const all: Outcome[] = [];
  const perFilter: { name: string; cases: number; ok: number }[] = [];
  const noSamples: string[] = [];
  try {
    for (const { name, file } of filters) {
      const res = runFilter(name, file, scratch, checkAllRegex);
      if (res === null) {
        noSamples.push(name);
        continue;
      }
      all.push(...res);
      perFilter.push({ name, cases: res.length, ok: res.filter((r) => r.ok).length });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const ok = all.filter((r) => r.ok).length;
  const rate = ok / all.length;
  const lines = [
    `fail2ban conformance (${checkAllRegex ? 'every failregex, as fail2ban\'s harness' : 'first failregex, as the daemon'}): ${ok}/${all.length} cases (${(rate * 100).toFixed(2)}%) over ${perFilter.length} filters`,
    ...perFilter.filter((f) => f.ok < f.cases).map((f) => `  ${f.name}: ${f.ok}/${f.cases}`),
    ...all.filter((r) => !r.ok).map((r) => `  ✗ ${r.instance} ${r.file}:${r.lineNo}: ${r.why}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (process.env.PBAN_CONFORMANCE_REPORT) writeFileSync(`${process.env.PBAN_CONFORMANCE_REPORT}${checkAllRegex ? '' : '.first'}`, JSON.stringify({ perFilter, failures: all.filter((r) => !r.ok), noSamples }, null, 1));

  // fail2ban's suite: 91 filters with samples, about 1,600 cases.
  assert.ok(perFilter.length >= 91, `only ${perFilter.length} filters had samples`);
  assert.ok(all.length >= 1600, `only ${all.length} cases found`);
  assert.ok(rate >= OVERALL_FLOOR, `conformance ${(rate * 100).toFixed(2)}% is below the floor of ${OVERALL_FLOOR * 100}%`);
  for (const name of MUST_BE_PERFECT) {
    const f = perFilter.find((x) => x.name === name);
    assert.ok(f, `no samples for ${name}`);
    assert.equal(f.ok, f.cases, `${name}: ${f.ok}/${f.cases}: ${all.filter((r) => r.filter === name && !r.ok).map((r) => `${r.file}:${r.lineNo} ${r.why}`).join('; ')}`);
  }
}

test('fail2ban sample suite through pban test-filter, every failregex tried (fail2ban\'s harness)', { timeout: 900_000 }, () => runSuite(true));

test('fail2ban sample suite through pban test-filter, first failregex wins (the daemon)', { timeout: 900_000 }, () => runSuite(false));
