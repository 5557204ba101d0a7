// Are an action's programs there? `pban check` asks before a deploy: an action whose nft,
// iptables, ipset or command is missing would leave the jail unprotected, failing at every ban.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** The full path a command name runs as (PATH lookup unless it has a slash), or undefined. */
export function findProgram(name: string, envPath: string = process.env['PATH'] ?? ''): string | undefined {
  const runnable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes('/')) return runnable(name) ? name : undefined;
  for (const dir of envPath.split(':')) {
    const file = path.join(dir || '.', name);
    if (runnable(file)) return file;
  }
  return undefined;
}

/** One line naming every program of `programs` that is missing or not executable; undefined when all are there. */
export function missingPrograms(who: string, programs: readonly string[]): string | undefined {
  const missing = [...new Set(programs)].filter((p) => findProgram(p) === undefined);
  if (missing.length === 0) return undefined;
  const where = missing.some((p) => !p.includes('/')) ? ` (PATH=${process.env['PATH'] ?? ''})` : '';
  return `${who}: program${missing.length > 1 ? 's' : ''} ${missing.map((p) => `"${p}"`).join(', ')} not found or not executable${where}`;
}
