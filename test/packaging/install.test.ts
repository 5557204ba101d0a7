// A real install: `npm pack` (which builds, man page included), `npm install -g --prefix` into a
// temporary prefix (better-sqlite3 compiles there, as on a user's machine), then `pban` run by
// name from an unrelated directory must find its shipped filters, actions and man page.
// The systemd unit is verified against this install with systemd-analyze.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { requireCommands } from '../helpers/system.js';

const VERSION = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const REJECT_LINE =
  'Nov 27 17:37:55 mail postfix/smtpd[8629]: NOQUEUE: reject: RCPT from unknown[198.51.100.11]: 550 5.1.1 <nobody@pban.test>: Recipient address rejected: User unknown in local recipient table; from=<a@example.org> to=<nobody@pban.test> proto=ESMTP helo=<x>';

let tmp: string;
let prefix: string;
/** A directory that has nothing to do with pban: the commands run from here. */
let elsewhere: string;
let env: NodeJS.ProcessEnv;

function run(argv: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: opts.cwd ?? elsewhere, env: opts.env ?? env, encoding: 'utf8', timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  return r;
}

function ok(argv: readonly string[], opts: Parameters<typeof run>[1] = {}): string {
  const r = run(argv, opts);
  assert.equal(r.status, 0, `${argv.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

before(() => {
  requireCommands(['systemd-analyze', 'man']);
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pban-install-'));
  prefix = path.join(tmp, 'prefix');
  elsewhere = path.join(tmp, 'elsewhere');
  mkdirSync(elsewhere);
  // npm comes with the Node.js that runs this test; the installed pban runs on that node too.
  env = { ...process.env, PATH: `${path.join(prefix, 'bin')}:${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`, MANPATH: path.join(prefix, 'share/man') };
  delete env.npm_config_prefix;
  const packDir = path.join(tmp, 'pack');
  mkdirSync(packDir);
  ok(['npm', 'pack', '--silent', '--pack-destination', packDir], { cwd: PACKAGE_ROOT, timeoutMs: 300_000 });
  const tgz = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
  assert.ok(tgz, `npm pack left no tarball in ${packDir}`);
  // --prefer-offline: the dependencies come from npm's cache when they are there.
  ok(['npm', 'install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', path.join(packDir, tgz)], { timeoutMs: 900_000 });
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('pban --version runs from another directory', () => {
  assert.equal(realpathSync(path.join(prefix, 'bin/pban')), path.join(realpathSync(prefix), 'lib/node_modules/pban/dist/src/cli/main.js'));
  assert.equal(ok(['pban', '--version']).trim(), VERSION);
});

test('pban test-filter finds the shipped postfix filter', () => {
  const r = run(['pban', 'test-filter', '--json', 'postfix', REJECT_LINE]);
  assert.equal(r.status, 0, r.stderr);
  const hit = JSON.parse(r.stdout) as { ip: string; kind: string; filter: string };
  assert.deepEqual([hit.ip, hit.kind, hit.filter], ['198.51.100.11', 'user-unknown', 'postfix']);
  const summary = JSON.parse(r.stderr) as { file: string; matched: number };
  assert.equal(summary.file, path.join(prefix, 'lib/node_modules/pban/filters/postfix.toml'));
  assert.equal(summary.matched, 1);
});

test('pban check accepts the shipped /etc/pban/pban.toml (filters compiled, actions loaded)', () => {
  const shipped = path.join(prefix, 'lib/node_modules/pban/packaging/pban.toml');
  const out = ok(['pban', 'check', '--json', '-c', shipped]);
  const summary = JSON.parse(out) as { ok: boolean; database: string; socket: string; jails: { name: string; enabled: boolean; actions: string[] }[] };
  assert.equal(summary.ok, true);
  assert.equal(summary.database, '/var/lib/pban/pban.sqlite');
  assert.equal(summary.socket, '/run/pban/pban.sock');
  assert.deepEqual(summary.jails.filter((j) => j.enabled).map((j) => [j.name, j.actions]), [['postfix', ['nftables']]]);
  // The copy in the repository is the same file.
  assert.equal(readFileSync(shipped, 'utf8'), readFileSync(path.join(PACKAGE_ROOT, 'packaging/pban.toml'), 'utf8'));
});

test('man pban is installed with the package', () => {
  // npm links share/man/man1/pban.1 to the page inside the package; man -w names the target.
  assert.equal(ok(['man', '-w', 'pban']).trim(), realpathSync(path.join(prefix, 'share/man/man1/pban.1')));
  assert.equal(realpathSync(path.join(prefix, 'share/man/man1/pban.1')), path.join(realpathSync(prefix), 'lib/node_modules/pban/dist/man/pban.1'));
  const page = ok(['man', '-P', 'cat', 'pban'], { env: { ...env, MANWIDTH: '100', LC_ALL: 'C' } });
  assert.match(page, /^NAME\n\s+pban\s+-\s+ban engine/m);
  assert.match(page, /^ {3}test-filter \[options\] <filter> <log>$/m);
});

test('pban completion bash from the install is valid bash', () => {
  const script = ok(['pban', 'completion', 'bash']);
  const file = path.join(tmp, 'pban.bash');
  writeFileSync(file, script);
  ok(['bash', '-n', file]);
});

test('packaging/pban.service passes systemd-analyze verify, hardened as documented', () => {
  const unit = readFileSync(path.join(PACKAGE_ROOT, 'packaging/pban.service'), 'utf8');
  for (const line of [
    'ProtectSystem=strict',
    'ReadWritePaths=/var/lib/pban /run/pban -/run/xtables.lock',
    'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_DAC_READ_SEARCH',
    'NoNewPrivileges=yes',
    'StateDirectory=pban',
    'RuntimeDirectory=pban',
    'ExecReload=/bin/kill -HUP $MAINPID',
    'ExecStart=/usr/bin/pban start -c /etc/pban/pban.toml',
  ]) assert.ok(unit.split('\n').includes(line), `pban.service lacks: ${line}`);
  // systemd-analyze checks that every Exec binary exists and that man:pban(1) resolves. The
  // unit names /usr/bin/pban (npm's global prefix on Debian); this install is in a temporary
  // prefix, so the copy verified here differs in that path only.
  const dir = path.join(tmp, 'unit');
  mkdirSync(dir);
  const file = path.join(dir, 'pban.service');
  writeFileSync(file, unit.replaceAll('/usr/bin/pban', path.join(prefix, 'bin/pban')));
  const r = run(['systemd-analyze', 'verify', file]);
  assert.equal(r.status, 0, r.stderr);
  // Unknown or misspelled keys are only warnings: they must not be there either.
  assert.equal(r.stderr.trim(), '', r.stderr);
});
