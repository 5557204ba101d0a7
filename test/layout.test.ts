// Rules about the test tree itself (docs/testing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.js';

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

test('no test imports benchmark code: shared generators live in test/helpers/', () => {
  const offenders = tsFiles(path.join(PACKAGE_ROOT, 'test')).filter((f) => /from\s+'(\.\.\/)+bench\//.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => path.relative(PACKAGE_ROOT, f)), []);
});

test('no test installs packages: scripts/setup-test-env.sh does, tests only check (helpers/system.ts)', () => {
  const offenders = tsFiles(path.join(PACKAGE_ROOT, 'test')).filter((f) => /['"](apt-get|apt|dpkg|debconf-set-selections)['"]/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => path.relative(PACKAGE_ROOT, f)), []);
});
