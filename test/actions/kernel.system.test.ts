// The shipped actions against the real kernel, inside network namespaces this file creates:
// bans must stop attacker 1 and only attacker 1, lift cleanly, cover networks, expire in the
// kernel on their own, and come back after someone wipes the firewall.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ban, Family } from '../../src/events.js';
import { createAction, target, type ActionRunner, type ParamValue } from '../../src/actions/index.js';
import { createLab, rootSnapshot, type Lab } from '../helpers/netns.js';

const JAIL = 'it';

interface Backend {
  readonly label: string;
  readonly action: string;
  readonly params: Record<string, ParamValue>;
  /** Does the kernel expire entries on its own? */
  readonly kernelTimeouts: boolean;
  /** Our entries for one family, as the kernel lists them (without countdowns). */
  dump(lab: Lab, f: Family): string;
  /** What an admin or firewalld might do to our state. */
  wipe(lab: Lab): void;
  /** Leaves the server namespace clean for the next backend. */
  cleanup(lab: Lab): void;
}

const out = (lab: Lab, argv: string[]) => lab.srvRun(argv).stdout;
const ipt = (variant: string, f: Family) => `${f === 4 ? 'iptables' : 'ip6tables'}${variant}`;
const members = (text: string) => text.split('Members:\n')[1]?.replace(/ timeout \d+/g, '') ?? `(no set) ${text}`;

function iptablesBackend(variant: '-nft' | '-legacy'): Backend {
  return {
    label: `iptables${variant}`,
    action: 'iptables',
    params: { variant, blocktype: ['REJECT'] },
    kernelTimeouts: false,
    dump: (lab, f) => out(lab, [ipt(variant, f), '-w', '-S', `pban-${JAIL}`]),
    wipe: (lab) => {
      for (const f of [4, 6] as const) {
        lab.srvRun([ipt(variant, f), '-w', '-F']);
        lab.srvRun([ipt(variant, f), '-w', '-X', `pban-${JAIL}`]);
      }
    },
    cleanup: (lab) => {
      for (const f of [4, 6] as const) {
        lab.srvRun([ipt(variant, f), '-w', '-F']);
        lab.srvRun([ipt(variant, f), '-w', '-X']);
      }
      lab.srvRun(['nft', 'flush', 'ruleset']);
    },
  };
}

function ipsetBackend(variant: '-nft' | '-legacy'): Backend {
  return {
    label: `ipset + iptables${variant}`,
    action: 'ipset',
    params: { variant, blocktype: ['REJECT'] },
    kernelTimeouts: true,
    dump: (lab, f) => members(out(lab, ['ipset', 'list', `pban-${JAIL}-${f}`])),
    wipe: (lab) => {
      // the rule goes first, as a set in use cannot be destroyed
      for (const f of [4, 6] as const) lab.srvRun([ipt(variant, f), '-w', '-F', 'INPUT']);
      for (const f of [4, 6] as const) lab.srvRun(['ipset', 'destroy', `pban-${JAIL}-${f}`]);
    },
    cleanup: (lab) => {
      for (const f of [4, 6] as const) lab.srvRun([ipt(variant, f), '-w', '-F']);
      lab.srvRun(['nft', 'flush', 'ruleset']);
      lab.srvRun(['ipset', 'destroy']);
    },
  };
}

const BACKENDS: Backend[] = [
  {
    label: 'nftables',
    action: 'nftables',
    params: { blocktype: 'reject' },
    kernelTimeouts: true,
    // addresses in host4/host6 (plain sets), networks in net4/net6 (interval sets)
    dump: (lab, f) => ['host', 'net'].map((s) => out(lab, ['nft', 'list', 'set', 'inet', `pban-${JAIL}`, `${s}${f}`])).join('').replace(/ expires \S+?(?=[,\s}])/g, ''),
    wipe: (lab) => void lab.srvRun(['nft', 'flush', 'ruleset']),
    cleanup: (lab) => void lab.srvRun(['nft', 'flush', 'ruleset']),
  },
  iptablesBackend('-nft'),
  iptablesBackend('-legacy'),
  ipsetBackend('-nft'),
  ipsetBackend('-legacy'),
];

let lab: Lab;
let rootBefore: string;

before(async () => {
  rootBefore = rootSnapshot();
  lab = await createLab(String(process.pid));
});

after(async () => {
  await lab?.destroy();
  assert.equal(rootSnapshot(), rootBefore, 'the root namespace firewall changed');
});

/** Probes in parallel and compares all results at once, so a failure shows the whole picture. */
async function expectAccess(cases: [label: string, ns: string, source: string, dest: string, open: boolean][]): Promise<void> {
  const got = await Promise.all(cases.map(([, ns, s, d]) => lab.connects(ns, s, d)));
  const want = cases.map((c) => `${c[0]}: ${c[4] ? 'open' : 'blocked'}`);
  const seen = cases.map((c, i) => `${c[0]}: ${got[i] ? 'open' : 'blocked'}`);
  assert.deepEqual(seen, want);
}

async function waitFor(what: string, fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out after ${ms} ms waiting for: ${what}`);
}

for (const be of BACKENDS) {
  describe(`${be.label} in a namespace`, () => {
    const store = new Map<string, Ban>();
    let action: ActionRunner;
    const ban = (t: string, untilMs: number | null): Ban => {
      const b: Ban = { target: target(t), jail: JAIL, kind: t.includes('/') ? 'network' : 'address', created: Date.now(), until: untilMs === null ? null : Date.now() + untilMs, failures: 5, banNumber: 1 };
      store.set(t, b); // recorded before the action runs, as the daemon does
      return b;
    };
    const ok = async (p: Promise<boolean>, what = 'the action succeeds'): Promise<void> => {
      assert.equal(await p, true, `${what}: ${JSON.stringify(action.health().lastError)}`);
    };
    const lift = (t: string) => {
      store.delete(t);
      return target(t);
    };

    before(async () => {
      action = createAction(be.action, {
        jail: JAIL,
        ports: [8080],
        params: be.params,
        commandPrefix: lab.inSrv,
        activeBans: () => [...store.values()],
        checkIntervalMs: 0,
        retryFirstMs: 200,
      });
      assert.equal(await action.start(), true, JSON.stringify(action.health().lastError));
    });

    after(async () => {
      await action?.stop();
      be.cleanup(lab);
    });

    for (const f of [4, 6] as const) {
      const A1 = f === 4 ? lab_('a1', 'v4') : lab_('a1', 'v6');
      const A1B = f === 4 ? lab_('a1', 'v4b') : lab_('a1', 'v6b');
      const A2 = f === 4 ? lab_('a2', 'v4') : lab_('a2', 'v6');
      const SRV1 = f === 4 ? lab_('server', 'v4a') : lab_('server', 'v6a');
      const SRV2 = f === 4 ? lab_('server', 'v4b') : lab_('server', 'v6b');
      const NET = f === 4 ? '198.51.100.0/24' : '2001:db8:1::/64';
      const probes = (a1: boolean, a1b: boolean, a2: boolean): [string, string, string, string, boolean][] => [
        ['attacker 1', lab.atk1, A1(), SRV1(), a1],
        ['attacker 1, 2nd address', lab.atk1, A1B(), SRV1(), a1b],
        ['attacker 2', lab.atk2, A2(), SRV2(), a2],
      ];

      test(`IPv${f}: a ban blocks attacker 1 only, twice is fine, the unban restores it`, async () => {
        await expectAccess(probes(true, true, true));
        await ok(action.ban([ban(A1(), 600_000)]));
        await expectAccess(probes(false, true, true));
        await ok(action.ban([ban(A1(), 600_000)]), 'banning twice is not an error');
        await ok(action.unban([lift(A1())]));
        await expectAccess(probes(true, true, true));
        await ok(action.unban([lift(A1())]), 'unbanning an absent target is not an error');
        assert.equal(action.health().state, 'healthy');
      });

      test(`IPv${f}: a network ban blocks every address inside it; an address inside adds nothing`, async () => {
        await ok(action.ban([ban(NET, null)]));
        await expectAccess(probes(false, false, true));
        const before = be.dump(lab, f);
        await ok(action.ban([ban(A1(), 600_000)]));
        assert.equal(be.dump(lab, f), before, 'the kernel changed for an address inside a banned network');
        // lifting the network keeps the address inside it that is still banned
        await ok(action.unban([lift(NET)]));
        await expectAccess(probes(false, true, true));
        await ok(action.unban([lift(A1())]));
        await expectAccess(probes(true, true, true));
      });

      test(`IPv${f}: an address ban then its network in one batch, and back`, async () => {
        await ok(action.ban([ban(A1B(), 600_000), ban(NET, 600_000)]));
        await expectAccess(probes(false, false, true));
        await ok(action.unban([lift(NET), lift(A1B())]));
        await expectAccess(probes(true, true, true));
      });

      if (be.kernelTimeouts) {
        test(`IPv${f}: the kernel lifts an expired ban on its own`, async () => {
          await ok(action.ban([ban(A1(), 1_000)]));
          await expectAccess(probes(false, true, true));
          await waitFor('the kernel timeout to lift the ban', () => lab.connects(lab.atk1, A1(), SRV1()), 4_000);
          store.delete(A1());
          await ok(action.unban([target(A1())]), 'pban lifting it afterwards is not an error');
        });
      }

      test(`IPv${f}: a wiped firewall is detected by check and rebuilt with every active ban`, async () => {
        await ok(action.ban([ban(A1(), 600_000)]));
        await expectAccess(probes(false, true, true));
        be.wipe(lab);
        await expectAccess(probes(true, true, true));
        assert.equal(await action.check(), true, JSON.stringify(action.health().lastError));
        assert.equal(action.health().state, 'healthy');
        if (be.action === 'nftables') {
          const sets = out(lab, ['nft', 'list', 'sets', 'inet']).match(/set \S+/g)?.sort().join(' ');
          assert.equal(sets, 'set host4 set host6 set net4 set net6', 'all four sets are back');
        }
        await expectAccess(probes(false, true, true));
        await ok(action.unban([lift(A1())]));
        await expectAccess(probes(true, true, true));
      });

      test(`IPv${f}: a ban that fails because the firewall vanished is recorded and repaired`, async () => {
        be.wipe(lab);
        // the store has the ban before the action runs; the failed batch triggers check + repair
        await action.ban([ban(A1(), 600_000)]);
        await waitFor('the action to be healthy again', async () => action.health().state === 'healthy', 5_000);
        await expectAccess(probes(false, true, true));
        await ok(action.unban([lift(A1())]));
        await expectAccess(probes(true, true, true));
      });
    }

    test('stop removes only our state', async () => {
      // something of someone else's, in the same tables the backend uses
      lab.srvRun(['nft', 'add', 'table', 'inet', 'someone-else']);
      lab.srvRun(['ipset', 'create', 'someone-else', 'hash:ip']);
      await action.stop();
      const nft = out(lab, ['nft', 'list', 'ruleset']);
      assert.match(nft, /table inet someone-else/);
      assert.doesNotMatch(nft, new RegExp(`pban-${JAIL}`));
      assert.match(out(lab, ['ipset', 'list', '-n']), /^someone-else$/m);
      assert.doesNotMatch(out(lab, ['ipset', 'list', '-n']), /pban/);
      for (const f of [4, 6] as const) {
        for (const v of ['-nft', '-legacy']) assert.doesNotMatch(out(lab, [ipt(v, f), '-w', '-S']), /pban/);
      }
      assert.equal(action.health().state, 'stopped');
      lab.srvRun(['nft', 'delete', 'table', 'inet', 'someone-else']);
      lab.srvRun(['ipset', 'destroy', 'someone-else']);
    });
  });
}

/** Lab addresses are only known once before() ran: read them lazily. */
function lab_<K extends 'a1' | 'a2' | 'server'>(who: K, key: string): () => string {
  return () => (lab[who] as Record<string, string>)[key] ?? '';
}


describe('nftables with the defaults: drop, every port', () => {
  const store = new Map<string, Ban>();
  let action: ActionRunner;
  before(async () => {
    action = createAction('nftables', { jail: JAIL, commandPrefix: lab.inSrv, activeBans: () => [...store.values()], checkIntervalMs: 0 });
    assert.equal(await action.start(), true, JSON.stringify(action.health().lastError));
  });
  after(async () => {
    await action?.stop();
    lab.srvRun(['nft', 'flush', 'ruleset']);
  });
  test('IPv4 and IPv6: the dropped attacker times out, the other connects, the unban restores it', async () => {
    const bans = [lab.a1.v4, lab.a1.v6].map((a): Ban => ({ target: target(a), jail: JAIL, kind: 'address', created: Date.now(), until: Date.now() + 600_000, failures: 5, banNumber: 1 }));
    for (const b of bans) store.set(b.target.addr, b);
    assert.equal(await action.ban(bans), true, JSON.stringify(action.health().lastError));
    const chain = lab.srvRun(['nft', 'list', 'chain', 'inet', `pban-${JAIL}`, 'input4']).stdout;
    assert.match(chain, /ip saddr @host4 drop/);
    assert.match(chain, /ip saddr @net4 drop/);
    // the addresses are plain elements (a plain set has no prefixes)
    assert.match(lab.srvRun(['nft', 'list', 'set', 'inet', `pban-${JAIL}`, 'host6']).stdout, new RegExp(`elements = \\{ ${lab.a1.v6} timeout`));
    await expectAccess([
      ['attacker 1 v4', lab.atk1, lab.a1.v4, lab.server.v4a, false],
      ['attacker 1 v6', lab.atk1, lab.a1.v6, lab.server.v6a, false],
      ['attacker 2 v4', lab.atk2, lab.a2.v4, lab.server.v4b, true],
      ['attacker 2 v6', lab.atk2, lab.a2.v6, lab.server.v6b, true],
    ]);
    store.clear();
    assert.equal(await action.unban(bans.map((b) => b.target)), true);
    await expectAccess([
      ['attacker 1 v4', lab.atk1, lab.a1.v4, lab.server.v4a, true],
      ['attacker 1 v6', lab.atk1, lab.a1.v6, lab.server.v6a, true],
    ]);
  });
});
