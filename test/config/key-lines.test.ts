import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyLines } from '../../src/config/key-lines.js';

const TEXT = [
  '# comment with [brackets] and key = value', // 1
  'top = 1', //                                  2
  '[pban]', //                                   3
  'database = "/a # not a comment"  # real', //  4
  '', //                                         5
  '[defaults]', //                               6
  'ignoreip = [', //                             7
  '  "127.0.0.1",   # loopback', //              8
  '  "::1",', //                                 9
  ']', //                                        10
  'subnet = { enabled = true, maxretry = 3 }', //11
  'bantime_increment.factor = 3', //             12
  'note = """', //                               13
  'maxretry = 99', //                            14  (inside a string: not a key)
  '"""', //                                      15
  '[ jails . "post.fix" ]', //                   16
  "filter = 'postfix'", //                       17
  '[[items]]', //                                18
  'x = 1', //                                    19
  '[[items]]', //                                20
  'x = 2', //                                    21
].join('\n');

const cases: [(string | number)[], number | undefined][] = [
  [['top'], 2],
  [['pban'], 3],
  [['pban', 'database'], 4],
  [['defaults'], 6],
  [['defaults', 'ignoreip'], 7],
  [['defaults', 'ignoreip', 0], 8],
  [['defaults', 'ignoreip', 1], 9],
  [['defaults', 'subnet'], 11],
  [['defaults', 'subnet', 'maxretry'], 11],
  [['defaults', 'bantime_increment'], 12],
  [['defaults', 'bantime_increment', 'factor'], 12],
  [['defaults', 'maxretry'], 6], // absent: falls back to its table
  [['jails', 'post.fix'], 16],
  [['jails', 'post.fix', 'filter'], 17],
  [['items', 0, 'x'], 19],
  [['items', 1, 'x'], 21],
  [['nothing'], undefined],
];

const index = KeyLines.scan(TEXT);
for (const [path, line] of cases) {
  test(`line of ${path.join('.')} is ${line}`, () => {
    assert.equal(index.lineOf(path), line);
  });
}
