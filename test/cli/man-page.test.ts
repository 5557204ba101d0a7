// The man page and the completion scripts are generated from the commander program: every
// command and option that --help shows must be in them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli/program.js';
import { programInfo, type CommandInfo } from '../../src/cli/command-tree.js';
import { manPage } from '../../src/cli/man-page.js';
import { renderCompletion, SHELLS } from '../../src/cli/completion.js';

const info = async (): Promise<CommandInfo> => programInfo(await buildProgram());

test('the command tree has every command, its arguments, options and examples', async () => {
  const p = await info();
  const names = p.commands.map((c) => c.name);
  for (const n of ['status', 'banned', 'ban', 'unban', 'reload', 'stop', 'version', 'test-filter', 'replay', 'start', 'check', 'completion', 'help']) assert.ok(names.includes(n), n);
  const ban = p.commands.find((c) => c.name === 'ban')!;
  assert.equal(ban.usage, 'pban ban [options] <jail> <target>');
  assert.deepEqual(ban.arguments.map((a) => [a.term, a.required]), [['jail', true], ['target', true]]);
  assert.deepEqual(ban.options.find((o) => o.long === '--config')?.value, { kind: 'file' });
  assert.match(ban.after, /\$ pban ban postfix 192\.0\.2\.1/);
  const testFilter = p.commands.find((c) => c.name === 'test-filter')!;
  assert.deepEqual(testFilter.arguments[0]!.value, { kind: 'words', words: ['dovecot', 'postfix'] });
  const completion = p.commands.find((c) => c.name === 'completion')!;
  assert.deepEqual(completion.arguments[0]!.value, { kind: 'words', words: ['bash', 'zsh', 'fish'] });
});

test('man pban: a section per command with its options, valid roff', async () => {
  const page = await manPage();
  assert.match(page, /^\.\\" /);
  assert.match(page, /^\.TH PBAN 1 "" "pban \d+\.\d+\.\d+" "User Commands"$/m);
  const p = await info();
  for (const c of p.commands.filter((c) => c.name !== 'help')) {
    assert.match(page, new RegExp(`^\\.SS ${c.name.replace(/-/g, '\\\\-')} `, 'm'), c.name);
    for (const o of c.options) if (o.long) assert.ok(page.includes(o.long.replace(/-/g, '\\-')), `${c.name} ${o.long}`);
  }
  // No text line may start with a roff control character unless escaped.
  for (const line of page.split('\n')) if (/^['.]/.test(line)) assert.match(line, /^(\.\\"|\.[A-Za-z]{1,2}( |$))/, line);
  for (const s of ['EXIT STATUS', 'FILES', 'SEE ALSO']) assert.match(page, new RegExp(`^\\.SH ${s}$`, 'm'));
});

test('each completion script names every command and every long option', async () => {
  const p = await info();
  for (const shell of SHELLS) {
    const script = renderCompletion(shell, p, '0.0.0');
    for (const c of p.commands) {
      assert.ok(script.includes(c.name), `${shell}: ${c.name}`);
      for (const o of c.options) if (o.long) assert.ok(script.includes(shell === 'fish' ? `-l ${o.long.slice(2)}` : o.long), `${shell}: ${c.name} ${o.long}`);
    }
  }
});
