// Allow lists by verified client name: what a pattern is, what it matches, and that no
// hostile name written into a log line can make an attacker allowed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nameAllowed, parseAllowName, type AllowName } from '../../src/engine/allow-names.js';
import { Jail } from '../../src/engine/jail.js';
import { failure, policy } from './helpers.js';

function compile(list: string[]): AllowName[] {
  return list.map((p) => {
    const r = parseAllowName(p);
    if ('error' in r) throw new Error(r.error);
    return r;
  });
}

const LIST = compile(['*.outbound.protection.outlook.com', '*.google.com', 'mx1.partner.example']);

test('patterns: "*.domain" covers names under it, a plain name only itself', () => {
  assert.equal(nameAllowed(LIST, 'mail-db8eur05on2100.outbound.protection.outlook.com'), true);
  assert.equal(nameAllowed(LIST, 'MAIL-YW1-F170.GOOGLE.COM'), true);
  assert.equal(nameAllowed(LIST, 'mx1.partner.example'), true);
  assert.equal(nameAllowed(LIST, 'google.com'), false, '"*.google.com" needs a label before the domain');
  assert.equal(nameAllowed(LIST, 'evilgoogle.com'), false);
  assert.equal(nameAllowed(LIST, 'mx2.partner.example'), false);
  assert.equal(nameAllowed(LIST, 'x.mx1.partner.example'), false);
  assert.equal(nameAllowed(LIST, 'google.com.evil.example'), false);
  assert.equal(nameAllowed(LIST, undefined), false);
  assert.equal(nameAllowed([], 'mail-x.google.com'), false);
});

test('a hostile client name never matches', () => {
  for (const name of [
    'unknown',
    'unknown[1.2.3.4].outlook.com',
    'unknown[203.0.113.5].outbound.protection.outlook.com',
    'x.outbound.protection.outlook.com[1.2.3.4]',
    'a b.google.com',
    'a\tb.google.com',
    'x..google.com',
    '.google.com',
    '-x.google.com',
    'x-.google.com',
    'x_y.google.com',
    'x.google.com.',
    'x.google.com\n',
    'x.google.com:25',
    `${'a'.repeat(250)}.google.com`,
  ]) {
    assert.equal(nameAllowed(LIST, name), false, JSON.stringify(name));
  }
});

test('bad patterns are refused with a reason', () => {
  for (const p of ['*', '*.com', 'unknown', '*.unknown', 'a b.example', 'x.*.example', '**.example', 'mail[1].example', '', 'single', '*.', 'ex ample.com', '1.2.3.4/24'.replace('/', '[')]) {
    const r = parseAllowName(p);
    assert.ok('error' in r, `accepted ${JSON.stringify(p)}`);
  }
  assert.match((parseAllowName('*.com') as { error: string }).error, /"\*\.com"/);
});

test('an allowed client is never counted and never one of a network\'s distinct addresses', () => {
  const jail = new Jail({ ...policy({ maxretry: 3, subnet: { enabled: true, maxretry: 4, minAddresses: 3 } }), allowNames: LIST });
  const from = (ip: string, t: number, client?: string) => ({ ...failure(ip, t), ...(client === undefined ? {} : { client }) });
  // Many failures from two allowed hosts of 192.0.2.0/24: ignored, nothing enters a window.
  for (let t = 0; t < 6; t++) assert.deepEqual(jail.observe(from(`192.0.2.${1 + (t % 2)}`, t, `mail-${t % 2}.google.com`)), { type: 'none', reason: 'ignored' });
  assert.equal(jail.failuresOf('192.0.2.1' as never), 0);
  // Two unallowed addresses of the same /24, two failures each: four failures, two addresses.
  jail.observe(from('192.0.2.3', 10, 'unknown'));
  jail.observe(from('192.0.2.4', 11));
  jail.observe(from('192.0.2.3', 12, 'unknown[192.0.2.1].google.com'));
  const d = jail.observe(from('192.0.2.4', 13));
  assert.deepEqual(d, { type: 'none', reason: 'counted' }, 'the allowed hosts would have made three distinct addresses');
  assert.equal(jail.status().bannedNetworks, 0);
});
