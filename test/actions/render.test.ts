// The batch renderer in slices gives the very invocations the one-piece render gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAction, target } from '../../src/actions/index.js';
import { planSync } from '../../src/actions/plan.js';
import { Renderer } from '../../src/actions/render.js';
import type { Ban } from '../../src/events.js';

const NOW = 1_800_000_000_000;
const ban = (t: string, until: number | null): Ban => ({ target: target(t), jail: 'postfix', kind: 'address', created: NOW, until, failures: 5, banNumber: 1 });

for (const name of ['nftables', 'ipset', 'iptables'] as const) {
  test(`${name}: batchInSlices renders what batch renders, pausing every 10,000 changes`, async () => {
    const bans: Ban[] = [];
    for (let i = 0; i < 21_000; i++) bans.push(ban(`198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, i % 7 === 0 ? null : NOW + 60_000 + i));
    for (let i = 0; i < 4_000; i++) bans.push(ban(`2001:db8::${i.toString(16)}`, NOW + 3_600_000));
    bans.push(ban('203.0.113.0/24', NOW + 600_000), ban('2001:db8:1::/64', NOW + 600_000));
    const { changes } = planSync(bans, NOW);
    const r = new Renderer(loadAction(name), { jail: 'postfix', ports: [{ from: 25, to: 25 }], protocol: 'tcp', params: new Map() });
    let pauses = 0;
    const sliced = await r.batchInSlices(['start', 'flush'], changes, NOW, [4, 6], async () => {
      pauses++;
    });
    assert.deepEqual(sliced, r.batch(['start', 'flush'], changes, NOW, [4, 6]));
    assert.equal(pauses, 2, '25,002 changes: a pause after 10,000 and after 20,000');
    const text = sliced.map((inv) => inv.stdin ?? '').join('');
    assert.ok(text.includes('198.18.0.1') && text.includes('2001:db8::f9f'), 'the batch carries the elements');
  });
}
