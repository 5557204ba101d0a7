// `pban completion bash|zsh|fish` driven by the real shells: bash and fish are asked for the
// completions of partial command lines; zsh (whose completion needs a terminal) must parse
// the script and register _pban for pban.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPban } from '../helpers/run-cli.js';
import { requireCommands } from '../helpers/system.js';

let dir: string;
const scripts: Record<string, string> = {};

before(() => {
  requireCommands(['zsh', 'fish']);
  dir = mkdtempSync(path.join(os.tmpdir(), 'pban-completion-'));
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = runPban(['completion', shell]);
    assert.equal(r.status, 0, r.stderr);
    scripts[shell] = path.join(dir, `pban.${shell}`);
    writeFileSync(scripts[shell]!, r.stdout);
  }
  writeFileSync(path.join(dir, 'mail.log'), '');
  writeFileSync(path.join(dir, 'pban.toml'), '');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function shell(argv: readonly string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, encoding: 'utf8', timeout: 30_000, env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir } });
  assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** bash's completions for a command line whose last word is being completed. */
function bashComplete(...words: string[]): string[] {
  const out = shell(['bash', '-c', 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _pban; printf "%s\\n" "${COMPREPLY[@]}"', '_', scripts.bash!, ...words]);
  return out.split('\n').filter(Boolean).sort();
}

/** fish's completions (without descriptions) for a command line. */
function fishComplete(line: string): string[] {
  const out = shell(['fish', '--no-config', '-c', `source ${scripts.fish}; complete -C ${JSON.stringify(line)}`]);
  return out.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();
}

test('bash: commands, options, option values, shipped filters, files', () => {
  assert.deepEqual(bashComplete('pban', 'sta'), ['start', 'status']);
  assert.deepEqual(bashComplete('pban', 'ban', '--t'), ['--time']);
  assert.deepEqual(bashComplete('pban', 'status', '-c', 'pban.t'), ['pban.toml']);
  assert.deepEqual(bashComplete('pban', 'test-filter', ''), ['dovecot', 'postfix']);
  assert.deepEqual(bashComplete('pban', 'test-filter', '--timezone', 'UTC', 'postfix', 'ma'), ['mail.log']);
  assert.deepEqual(bashComplete('pban', 'replay', '-c', 'pban.toml', 'mail.log', 'ma'), ['mail.log']);
  assert.deepEqual(bashComplete('pban', 'completion', ''), ['bash', 'fish', 'zsh']);
  assert.deepEqual(bashComplete('pban', 'help', 'te'), ['test-filter']);
  // A value-taking option's value is not a positional word: after `-t 2h` comes the jail.
  assert.deepEqual(bashComplete('pban', 'ban', '-t', '2h', ''), []);
});

test('fish: commands, options, option values, shipped filters, files', () => {
  assert.deepEqual(fishComplete('pban sta'), ['start', 'status']);
  assert.deepEqual(fishComplete('pban ban --t'), ['--time']);
  assert.deepEqual(fishComplete('pban status -c pban.t'), ['pban.toml']);
  assert.deepEqual(fishComplete('pban test-filter '), ['dovecot', 'postfix']);
  assert.deepEqual(fishComplete('pban test-filter --timezone UTC postfix ma'), ['mail.log']);
  assert.deepEqual(fishComplete('pban completion '), ['bash', 'fish', 'zsh']);
});

test('zsh: the script parses and registers _pban for pban', () => {
  shell(['zsh', '-n', scripts.zsh!]);
  const out = shell(['zsh', '-f', '-c', `autoload -U compinit; compinit -u -d ${path.join(dir, 'zcompdump')}; source ${scripts.zsh}; print -r -- $_comps[pban]; whence -w _pban`]);
  assert.equal(out, '_pban\n_pban: function\n');
});
