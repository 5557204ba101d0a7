// The four pban scenarios of issue 6, on the real lab of harness.ts: real Postfix, real attacks,
// pban started as `ip netns exec <srv> node <build>/src/cli/main.js start -c <cfg>` with the
// nftables action, and the kernel state read with `nft -j list table inet pban-postfix`.
//
// Run by `npm test` (and so by CI). If the nftables action renames its table, change NFT_NAMES
// in pban-fixture.ts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { MailLab, PORTS, GOOD_USER, runOk, inNs, snapshotRootNamespace, processesMentioning, type Host } from './harness.js';
import { runAttacksIn, isBlocked, type AttackSpec, type AttackResult } from './attacks.js';
import { PbanDaemon, writePbanConfig, bannedInKernel, failuresPerAddress, waitFor, dropTable, type ScenarioConfig, type PbanRecord } from './pban-fixture.js';

const cidr = (addr: string): string => (addr.includes(':') ? `${addr}/128` : `${addr}/32`);
/** pban may log a host target with or without its /32 or /128. */
const sameTarget = (logged: unknown, target: string): boolean =>
  typeof logged === 'string' && (logged === target || `${logged}/${target.includes(':') ? 128 : 32}` === target);
const show = (r: AttackResult): string => `${r.spec.kind} ${r.spec.source} -> ${r.spec.server}:${r.spec.port}: ${r.connect} ${r.error ?? ''}`;

const serverOf = (h: Host, source: string): string => (source.includes(':') ? h.server6 : h.server4);

interface Scenario {
  dir: string;
  config: string;
  stderr: string;
  pban: PbanDaemon;
}

describe('pban end to end: real Postfix under attack, banned through the kernel', { timeout: 110_000 }, () => {
  let lab: MailLab;
  let rootBefore: string;
  let current: PbanDaemon | undefined;

  before(async () => {
    rootBefore = await snapshotRootNamespace();
    lab = await MailLab.start({ addressesPerAttacker: 12 });
  });

  after(async () => {
    await current?.stop('SIGKILL');
    await lab?.teardown();
  });

  /** A fresh mail log, store and table for one scenario, and pban started on them. */
  async function startScenario(name: string, cfg: ScenarioConfig): Promise<Scenario> {
    await dropTable(lab);
    await lab.rotateLog();
    // postlog through postlogd creates the new maillog_file, so pban finds a file to follow
    await runOk(inNs(lab.server, ['postlog', '-c', lab.postfixConfigDir, '-t', 'pban-e2e', `scenario ${name}`]));
    await waitFor('the new maillog_file', () => (lab.logSize() > 0 ? true : undefined));
    const dir = mkdtempSync(path.join(lab.dir, `${name}-`));
    const config = writePbanConfig(lab, dir, cfg);
    const stderr = path.join(dir, 'pban.stderr');
    current = await PbanDaemon.start(lab, config, stderr);
    return { dir, config, stderr, pban: current };
  }

  async function endScenario(s: Scenario): Promise<void> {
    const r = await s.pban.stop('SIGTERM');
    current = undefined;
    assert.equal(r.code, 0, `pban exited ${r.code ?? r.signal} on SIGTERM`);
  }

  async function failuresOf(addr: string): Promise<number> {
    return (await failuresPerAddress(lab)).get(addr) ?? 0;
  }

  /**
   * Repeats `spec` (one connection at a time) until pban's filter has counted maxretry failures of
   * its source, checking after each connection that the address is not banned before that point
   * and is banned, in the kernel, once it is reached.
   */
  async function attackUntilBanned(host: Host, spec: AttackSpec, maxretry: number): Promise<{ failures: number; connections: number }> {
    let seen = await failuresOf(spec.source);
    for (let connections = 1; connections <= maxretry + 2; connections++) {
      const [r] = await runAttacksIn(host.ns, [spec]);
      assert.ok(r && r.connect === 'accepted', `connection ${connections} refused before the ban: ${r && show(r)}`);
      const before = seen;
      seen = await waitFor(`a new failure of ${spec.source} in the log`, async () => {
        const n = await failuresOf(spec.source);
        return n > before ? n : undefined;
      });
      if (seen >= maxretry) {
        await waitFor(`${spec.source} in the kernel set`, async () => ((await bannedInKernel(lab)).has(cidr(spec.source)) ? true : undefined), 3000);
        return { failures: seen, connections };
      }
      await new Promise((r) => setTimeout(r, 300)); // pban had the time to (wrongly) ban
      assert.ok(!(await bannedInKernel(lab)).has(cidr(spec.source)), `${spec.source} banned after only ${seen} failures`);
    }
    throw new Error(`${spec.source}: ${seen} failures and no ban`);
  }

  async function assertBlocked(host: Host, source: string, ports: readonly number[] = [PORTS.postscreen, PORTS.submission]): Promise<void> {
    const probes = await runAttacksIn(
      host.ns,
      ports.map((port) => ({ kind: 'probe' as const, source, server: serverOf(host, source), port, connectTimeoutMs: 800 })),
    );
    for (const p of probes) assert.ok(isBlocked(p), `expected blocked: ${show(p)}`);
  }

  async function assertOpen(host: Host, source: string, port: number = PORTS.submission): Promise<void> {
    const [p] = await runAttacksIn(host.ns, [{ kind: 'probe', source, server: serverOf(host, source), port }]);
    assert.ok(p?.completed, `expected open: ${p && show(p)}`);
  }

  async function assertBenignDelivers(): Promise<void> {
    const b = lab.benign;
    const results = await runAttacksIn(b.ns, [
      { kind: 'benign', port: PORTS.postscreen, source: b.v4[0]!, server: b.server4 },
      { kind: 'benign', port: PORTS.submission, source: b.v6[0]!, server: b.server6, auth: GOOD_USER },
    ]);
    for (const r of results) assert.ok(r.completed && r.queueId, `benign delivery failed: ${show(r)}`);
    await lab.waitForLog(results.map((r) => new RegExp(`postfix/discard\\[\\d+\\]: ${r.queueId}: to=<alice@mail\\.pban\\.test>.* status=sent`)), 0);
  }

  const banRecords = (records: PbanRecord[], target: string): PbanRecord[] => records.filter((r) => r.msg === 'ban.added' && sameTarget(r.target, target));

  it('1. each attacking address is banned after maxretry failures; its next connection to 25 and 587 fails; the benign client still delivers', async () => {
    const maxretry = 3;
    const s = await startScenario('s1', { maxretry, bantime: '1h' });
    const [a1, a2] = lab.attackers;
    const plan: Array<[Host, AttackSpec]> = [
      [a1, { kind: 'sasl-login', port: PORTS.submission, source: a1.v4[0]!, server: a1.server4 }],
      [a1, { kind: 'unknown-user', port: PORTS.smtpd, source: a1.v6[0]!, server: a1.server6 }],
      [a1, { kind: 'pregreet', port: PORTS.postscreen, source: a1.v4[1]!, server: a1.server4 }],
      [a2, { kind: 'relay', port: PORTS.smtpd, source: a2.v4[0]!, server: a2.server4 }],
      [a2, { kind: 'sasl-plain', port: PORTS.submission, source: a2.v6[0]!, server: a2.server6 }],
      [a2, { kind: 'pipelining', port: PORTS.smtpd, source: a2.v6[1]!, server: a2.server6 }],
    ];
    await Promise.all(plan.map(([h, spec]) => attackUntilBanned(h, spec, maxretry)));
    await Promise.all(plan.map(([h, spec]) => assertBlocked(h, spec.source)));
    // pban says why, with the count that triggered the ban
    for (const [, spec] of plan) {
      const recs = banRecords(s.pban.records(), cidr(spec.source));
      assert.equal(recs.length, 1, `one ban.added for ${spec.source}: ${JSON.stringify(recs)}`);
      assert.equal(recs[0]!.failures, maxretry);
    }
    // neighbours that did nothing, and the benign client, are untouched
    await assertOpen(a1, a1.v4[11]!);
    await assertOpen(a2, a2.v6[11]!);
    await assertBenignDelivers();
    await endScenario(s);
  });

  it('2. a spread attack from one /24, and from one /64, each address below maxretry, bans the network', async () => {
    const cfg: ScenarioConfig = { maxretry: 5, bantime: '1h', subnet: { maxretry: 6, minAddresses: 3, bantime: '1h' } };
    const s = await startScenario('s2', cfg);
    const [a1, a2] = lab.attackers;
    const cases: Array<{ host: Host; addrs: string[]; net: string; outsider: string; kind: 'relay' | 'unknown-user' }> = [
      { host: a2, addrs: a2.v4.slice(2, 8), net: a2.net4, outsider: a2.v4[11]!, kind: 'relay' },
      { host: a1, addrs: a1.v6.slice(2, 8), net: a1.net6, outsider: a1.v6[11]!, kind: 'unknown-user' },
    ];
    for (const c of cases) {
      let total = 0;
      for (const source of c.addrs) {
        const [r] = await runAttacksIn(c.host.ns, [{ kind: c.kind, port: PORTS.smtpd, source, server: serverOf(c.host, source) }]);
        assert.ok(r?.completed, r && show(r));
        const before = total;
        total = await waitFor('the failure in the log', async () => {
          const counts = await failuresPerAddress(lab);
          const sum = c.addrs.reduce((acc, a) => acc + (counts.get(a) ?? 0), 0);
          return sum > before ? sum : undefined;
        });
        if (total < cfg.subnet!.maxretry) {
          await new Promise((r) => setTimeout(r, 300));
          assert.ok(!(await bannedInKernel(lab)).has(c.net), `${c.net} banned after only ${total} failures`);
        }
      }
      assert.ok(total >= cfg.subnet!.maxretry, `only ${total} failures from ${c.net}`);
      const counts = await failuresPerAddress(lab);
      for (const a of c.addrs) assert.ok((counts.get(a) ?? 0) < cfg.maxretry, `${a} reached maxretry on its own`);
      await waitFor(`${c.net} in the kernel set`, async () => ((await bannedInKernel(lab)).has(c.net) ? true : undefined));
      const kernel = await bannedInKernel(lab);
      for (const a of c.addrs) assert.ok(!kernel.has(cidr(a)), `${a} banned as an address`);
      // an address of the network that never attacked is blocked too
      await assertBlocked(c.host, c.outsider);
      assert.equal(banRecords(s.pban.records(), c.net).length, 1);
    }
    await assertBenignDelivers();
    await endScenario(s);
  });

  it('3. SIGKILL mid-attack and restart: bans survive, the kernel set is re-synced, counting resumes with nothing counted twice', async () => {
    const maxretry = 4;
    const s = await startScenario('s3', { maxretry, bantime: '1h' });
    const [a1, a2] = lab.attackers;
    const banned = a1.v4[8]!;
    await attackUntilBanned(a1, { kind: 'sasl-login', port: PORTS.submission, source: banned, server: a1.server4 }, maxretry);

    // B keeps attacking (one failure per connection) while pban is killed in the middle
    const b = a2.v6[8]!;
    const relay: AttackSpec = { kind: 'relay', port: PORTS.smtpd, source: b, server: a2.server6 };
    const first = await runAttacksIn(a2.ns, [relay]);
    assert.ok(first[0]?.completed);
    await waitFor('B failure 1 in the log', async () => ((await failuresOf(b)) >= 1 ? true : undefined));
    const during = runAttacksIn(a2.ns, [relay, relay]); // two more connections, in flight during the kill
    await new Promise((r) => setTimeout(r, 50));
    const killed = await s.pban.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    for (const r of await during) assert.ok(r.completed, show(r));
    await waitFor('B failures 2 and 3 in the log', async () => ((await failuresOf(b)) >= 3 ? true : undefined));
    assert.equal(await failuresOf(b), maxretry - 1);

    // the kernel loses its state while pban is down (as on a reboot): pban must put it back
    await dropTable(lab);
    current = await PbanDaemon.start(lab, s.config, s.stderr);
    const restarted: Scenario = { ...s, pban: current };
    await waitFor(`${banned} re-applied in the kernel`, async () => ((await bannedInKernel(lab)).has(cidr(banned)) ? true : undefined));
    await assertBlocked(a1, banned);
    // B's three failures (one before the kill, two around it) are counted once: no ban yet ...
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!(await bannedInKernel(lab)).has(cidr(b)), `${b} banned with only ${maxretry - 1} failures: something was counted twice`);
    // ... and the fourth one bans: nothing was lost either
    const last = await runAttacksIn(a2.ns, [relay]);
    assert.ok(last[0]?.completed);
    await waitFor(`${b} in the kernel set`, async () => ((await bannedInKernel(lab)).has(cidr(b)) ? true : undefined), 3000);
    const recs = restarted.pban.records();
    assert.equal(banRecords(recs, cidr(banned)).length, 1, 'the surviving ban was not decided a second time');
    const bBans = banRecords(recs, cidr(b));
    assert.equal(bBans.length, 1);
    assert.equal(bBans[0]!.failures, maxretry);
    await endScenario(restarted);
  });

  it('4. a ban expires, and the attacker can connect again', async () => {
    const s = await startScenario('s4', { maxretry: 2, bantime: '3s' });
    const a2 = lab.attackers[1];
    const source = a2.v4[9]!;
    await attackUntilBanned(a2, { kind: 'sasl-login', port: PORTS.submission, source, server: a2.server4 }, 2);
    await assertBlocked(a2, source);
    await waitFor('ban.expired', () => (s.pban.records().some((r) => r.msg === 'ban.expired' && sameTarget(r.target, cidr(source))) ? true : undefined), 8000);
    // The expiry is logged when it is decided; the unban command follows it within milliseconds.
    let inKernel = true;
    for (const deadline = Date.now() + 2000; inKernel && Date.now() < deadline; ) {
      inKernel = (await bannedInKernel(lab)).has(cidr(source));
      if (inKernel) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(!inKernel, `${source} still in the kernel set 2 s after its expiry`);
    await assertOpen(a2, source, PORTS.submission);
    await assertOpen(a2, source, PORTS.postscreen);
    await endScenario(s);
  });

  it('leaves no namespace, process or rule behind', async () => {
    const dir = lab.dir;
    await lab.teardown();
    let left = processesMentioning(dir);
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = processesMentioning(dir);
    }
    assert.deepEqual(left, []);
    assert.equal(await snapshotRootNamespace(), rootBefore);
  });
});
