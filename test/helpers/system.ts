// What the system tests need from the machine: root, real programs, fail2ban's sample logs.
// Tests only check; they never install. One script installs everything (scripts/setup-test-env.sh,
// npm test's pretest), and its command → package table is the one list: a test asking for a
// command the script does not know fails, so the two cannot drift apart.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const SETUP_SCRIPT = 'scripts/setup-test-env.sh';
const FIX = `run \`bash ${SETUP_SCRIPT}\` as root (npm test runs it first, as its pretest)`;

/** The directories the setup script searches too (see its have()). */
const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/lib/systemd'];

/** The command → package table of the setup script (`[cmd]=package` lines of its NEED array). */
export function setupPackages(): ReadonlyMap<string, string> {
  const text = readFileSync(path.join(PACKAGE_ROOT, SETUP_SCRIPT), 'utf8');
  const block = /declare -A NEED=\(\n([\s\S]*?)\n\)/.exec(text);
  if (!block) throw new Error(`${SETUP_SCRIPT}: no "declare -A NEED=(...)" table`);
  const table = new Map<string, string>();
  for (const line of block[1]!.split('\n')) {
    const m = /^\s*\[([^\]]+)\]=(\S+)\s*$/.exec(line);
    if (m) table.set(m[1]!, m[2]!);
  }
  return table;
}

/** Where a command is, or undefined. */
export function findCommand(cmd: string): string | undefined {
  return SEARCH_PATH.map((d) => path.join(d, cmd)).find((p) => existsSync(p));
}

/** Throws unless every command is installed, naming the packages and the script that installs them. */
export function requireCommands(cmds: readonly string[]): void {
  const table = setupPackages();
  const unknown = cmds.filter((c) => !table.has(c));
  if (unknown.length > 0) throw new Error(`test needs ${unknown.join(', ')}, which ${SETUP_SCRIPT} does not install: add it to the script's NEED table`);
  const missing = cmds.filter((c) => findCommand(c) === undefined);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((c) => table.get(c)!))];
  throw new Error(`missing ${missing.join(', ')} (Debian package ${pkgs.join(', ')}): ${FIX}`);
}

/** Throws unless running as root (network namespaces, a root-owned control socket, …). */
export function requireRoot(why: string): void {
  if (process.getuid?.() !== 0) throw new Error(`this test needs root (${why}); run it with npm test as root, or run only the unit tests: npm run test:unit`);
}

/** fail2ban's sample logs, unpacked by the setup script from Debian's fail2ban package (never installed). */
export function fail2banSampleLogs(): string {
  // Same default as the script: ${PBAN_FAIL2BAN_CACHE:-${TMPDIR:-/tmp}/pban-fail2ban-samples}.
  const cache = process.env.PBAN_FAIL2BAN_CACHE || path.join(os.tmpdir(), 'pban-fail2ban-samples');
  const logs = path.join(cache, 'root/usr/lib/python3/dist-packages/fail2ban/tests/files/logs');
  if (!existsSync(path.join(logs, 'postfix')) || !existsSync(path.join(logs, 'dovecot'))) {
    throw new Error(`fail2ban's sample logs are not in ${logs}: ${FIX}`);
  }
  return logs;
}
