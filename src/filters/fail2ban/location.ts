// Where `fail2ban:NAME` filters are found. Kept apart from the reader so the config loader
// can resolve names without loading the fail2ban engine.
import { existsSync } from 'node:fs';
import path from 'node:path';

/** fail2ban's own filter directory, the default for `fail2ban:NAME`. */
export const DEFAULT_FAIL2BAN_FILTER_DIR = '/etc/fail2ban/filter.d';

/** NAME → DIR/NAME.conf (or NAME.local when only that exists); a path is made absolute. */
export function fail2banFilterFile(ref: string, isPath: boolean, filterDir: string | undefined): string {
  if (isPath) return path.resolve(ref);
  const dir = filterDir ?? process.env.PBAN_FAIL2BAN_FILTER_DIR ?? DEFAULT_FAIL2BAN_FILTER_DIR;
  const name = ref.replace(/\.(?:conf|local)$/, '');
  const file = path.join(dir, `${name}.conf`);
  if (!existsSync(file) && existsSync(path.join(dir, `${name}.local`))) return path.join(dir, `${name}.local`);
  return file;
}
