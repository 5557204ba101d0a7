import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAction, parseActionDefinition } from '../../src/actions/definition.js';
import { ConfigError } from '../../src/errors.js';
import { SHIPPED_ACTIONS } from '../../src/actions/index.js';

for (const name of SHIPPED_ACTIONS) {
  test(`shipped action ${name} loads`, () => {
    const def = loadAction(name);
    assert.equal(def.name, name);
    assert.ok(def.description.length > 0);
  });
}

const bad: { name: string; text: string; line: number | undefined; msg: RegExp }[] = [
  { name: 'TOML syntax', text: 'description = "x"\n[ban\n', line: 2, msg: /./ },
  { name: 'unknown top-level key', text: 'description = "x"\nbantime = 3\n', line: 2, msg: /unknown key "bantime"/ },
  { name: 'unknown placeholder', text: '[ban]\nrun = [["echo", "{tagret}"]]\n[unban]\nrun = [["echo"]]\n', line: 1, msg: /unknown placeholder \{tagret\}/ },
  { name: 'item placeholder outside ban/unban', text: '[start]\nrun = [["echo", "{target}"]]\n[ban]\nrun = [["x"]]\n[unban]\nrun = [["x"]]\n', line: 1, msg: /exists only in ban and unban/ },
  { name: 'script without a batch program', text: '[start]\nscript = ["x"]\n', line: 1, msg: /needs a \[batch\]/ },
  { name: 'batch without ban.each', text: '[batch]\nargv = ["nft", "-f", "-"]\n[unban]\neach = ["x"]\n', line: undefined, msg: /ban.each: required/ },
  { name: 'built-in name as a parameter', text: '[params]\ntarget = "x"\n[ban]\nrun = [["x"]]\n[unban]\nrun = [["x"]]\n', line: 2, msg: /built-in placeholder/ },
  { name: 'newline in a parameter', text: '[params]\nx = "a\\nb"\n[ban]\nrun = [["x"]]\n[unban]\nrun = [["x"]]\n', line: 2, msg: /newline/ },
  { name: 'per-kind value with one kind', text: '[params]\nset = { address = "a" }\n[ban]\nrun = [["x"]]\n[unban]\nrun = [["x"]]\n', line: 2, msg: /needs both address and network/ },
  { name: 'per-kind value with an unknown key', text: '[params]\nset = { address = "a", network = "b", host = "c" }\n[ban]\nrun = [["x"]]\n[unban]\nrun = [["x"]]\n', line: 2, msg: /unknown key "host"/ },
  { name: 'per-kind value outside ban/unban', text: '[params]\nset = { address = "a", network = "b" }\n[start]\nrun = [["x", "{set}"]]\n[ban]\nrun = [["x", "{set}"]]\n[unban]\nrun = [["x"]]\n', line: 3, msg: /start\.run\[0\]: \{set\} depends on the target/ },
  { name: 'a parameter using a per-kind one, outside ban/unban', text: '[params]\nset = { address = "a", network = "b" }\nname = "t-{set}"\n[stop]\nrun = [["x", "{name}"]]\n[ban]\nrun = [["x"]]\n[unban]\nrun = [["x"]]\n', line: 4, msg: /\{name\} depends on the target/ },
  { name: 'bad regex', text: '[check]\nrun = [{ argv = ["x"], expect = "(" }]\n[ban]\nrun = [["x"]]\n[unban]\nrun = [["x"]]\n', line: undefined, msg: /invalid regular expression/ },
];
for (const c of bad) {
  test(`invalid action file: ${c.name}`, () => {
    assert.throws(
      () => parseActionDefinition('/etc/pban/actions/mine.toml', c.text),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, c.msg);
        if (c.line !== undefined) assert.equal(e.line, c.line, e.message);
        assert.match(e.message, /^\/etc\/pban\/actions\/mine\.toml(:\d+)?: /);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      },
    );
  });
}

test('a missing action file names the file', () => {
  assert.throws(() => loadAction('/nonexistent/x.toml'), /\/nonexistent\/x\.toml: cannot read action file: no such file/);
});
