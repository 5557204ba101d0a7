#!/usr/bin/env node
// Runs the compiled tests (dist/test) with node --test: `unit`, `system` or `all` (the default).
//
// Which is which (docs/testing.md):
//   system tests: every test file under test/e2e/, test/daemon/, test/faults/ and test/packaging/,
//                 and any file named *.system.test.ts elsewhere. They need root (network
//                 namespaces, the root-owned control socket) or a real program besides node
//                 (nft, Postfix, logrotate, journalctl, npm, ...), installed by
//                 scripts/setup-test-env.sh.
//   unit tests:   every other *.test.ts. They need only node and the npm packages, pass as an
//                 ordinary user, and run in parallel.
// `all` runs the unit tests in parallel, then the system tests one file at a time (they build
// namespaces and time real daemons), and fails if either failed.
//
// Extra arguments go to node --test (e.g. --test-name-pattern=...).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST_TEST = path.join(ROOT, 'dist', 'test');
const SYSTEM_DIRS = ['e2e', 'daemon', 'faults', 'packaging'];

/** @param {string} rel path below dist/test, with '/' separators */
function isSystemTest(rel) {
  return SYSTEM_DIRS.some((d) => rel.startsWith(`${d}/`)) || rel.endsWith('.system.test.js');
}

function listTests(dir = DIST_TEST, rel = '') {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listTests(path.join(dir, e.name), r));
    // A compiled test whose source was renamed or deleted would otherwise still run.
    else if (e.name.endsWith('.test.js') && existsSync(path.join(ROOT, 'test', r.replace(/\.js$/, '.ts')))) out.push(r);
  }
  return out.sort();
}

function runNodeTest(files, concurrency, extra) {
  if (files.length === 0) return 0;
  const args = ['--test', `--test-concurrency=${concurrency}`, ...extra, ...files.map((f) => path.join('dist', 'test', f))];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  return r.status ?? 1;
}

function main() {
  const [which = 'all', ...extra] = process.argv.slice(2);
  if (!['unit', 'system', 'all'].includes(which)) {
    process.stderr.write(`run-tests: expected unit, system or all, got "${which}"\n`);
    return 2;
  }
  if (!existsSync(DIST_TEST)) {
    process.stderr.write('run-tests: no dist/test: build first (npx tsc -p tsconfig.json)\n');
    return 2;
  }
  const files = listTests();
  const unit = files.filter((f) => !isSystemTest(f));
  const system = files.filter(isSystemTest);
  // Unit tests mostly wait on timers, child processes and the disk: more files than cores pays.
  const parallel = Number(process.env.PBAN_TEST_CONCURRENCY) || Math.max(4, 2 * os.availableParallelism());
  let status = 0;
  if (which !== 'system') status = runNodeTest(unit, parallel, extra) || status;
  if (which !== 'unit') status = runNodeTest(system, 1, extra) || status;
  return status;
}

process.exitCode = main();
