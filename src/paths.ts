// Where pban's shipped files live. The compiled code sits in some build directory below the
// repository (dist/, or a private one during development), so we look upward for our package.json.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'pban') return dir;
      } catch {
        // not ours, keep looking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find pban's package.json above ${start}`);
    dir = up;
  }
}

export const PACKAGE_ROOT = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
/** Shipped filter definitions (filters/*.toml). */
export const FILTERS_DIR = path.join(PACKAGE_ROOT, 'filters');
/** Shipped action definitions (actions/*.toml). */
export const ACTIONS_DIR = path.join(PACKAGE_ROOT, 'actions');
