import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeholders, renderArgv, renderString, type ParamValue } from '../../src/actions/template.js';

const vars = new Map<string, ParamValue>([
  ['nft', 'nft'],
  ['table', 'pban-{jail}'],
  ['jail', 'postfix'],
  ['l3', { 4: 'ip', 6: 'ip6' }],
  ['block', ['REJECT', '--reject-with', 'tcp-reset']],
  ['none', []],
  ['ports', '25,465'],
  ['loop', '{loop}'],
  ['set', { address: 'host{fam}', network: 'net{fam}' }],
  ['fam', { 4: '4', 6: '6' }],
]);

const strings: { name: string; tpl: string; family?: 4 | 6; kind?: 'address' | 'network'; want?: string; error?: RegExp }[] = [
  { name: 'nested parameter', tpl: 'add table inet {table}', want: 'add table inet pban-postfix' },
  { name: 'per-family value', tpl: '{l3} saddr', family: 6, want: 'ip6 saddr' },
  { name: 'nft braces are not placeholders', tpl: 'add element inet t s { 192.0.2.1 } { {ports} } {80,443}', want: 'add element inet t s { 192.0.2.1 } { 25,465 } {80,443}' },
  { name: 'a list joins with spaces in a line', tpl: '-j {block}', want: '-j REJECT --reject-with tcp-reset' },
  { name: 'unknown placeholder', tpl: '{nope}', error: /unknown placeholder \{nope\}/ },
  { name: 'per-family value without a family', tpl: '{l3}', error: /differs per family/ },
  { name: 'a parameter that refers to itself', tpl: '{loop}', error: /nest too deep/ },
  { name: 'per-kind value for an address', tpl: 'add element {set}', family: 4, kind: 'address', want: 'add element host4' },
  { name: 'per-kind value for a network', tpl: 'add element {set}', family: 6, kind: 'network', want: 'add element net6' },
  { name: 'per-kind value without a target', tpl: '{set}', family: 4, error: /differs between addresses and networks/ },
];
for (const c of strings) {
  test(`renderString: ${c.name}`, () => {
    const ctx = { vars, family: c.family, kind: c.kind };
    if (c.error) assert.throws(() => renderString(c.tpl, ctx), c.error);
    else assert.equal(renderString(c.tpl, ctx), c.want);
  });
}

test('renderArgv: a whole-element list splices, an empty list disappears', () => {
  assert.deepEqual(renderArgv(['iptables', '-I', 'INPUT', '{none}', '-j', '{block}'], { vars }), ['iptables', '-I', 'INPUT', '-j', 'REJECT', '--reject-with', 'tcp-reset']);
});

test('renderArgv: a value with spaces stays one argument (no shell splitting)', () => {
  const v = new Map<string, ParamValue>([['x', 'a b; rm -rf /']]);
  assert.deepEqual(renderArgv(['echo', '{x}'], { vars: v }), ['echo', 'a b; rm -rf /']);
});

test('placeholders lists names only', () => {
  assert.deepEqual(placeholders('add element inet {table} {set} { {element} timeout {bantime}s }'), ['table', 'set', 'element', 'bantime']);
});
