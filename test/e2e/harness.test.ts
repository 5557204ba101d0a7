// The real world of the end-to-end suite, proven on its own: real Postfix in a network namespace
// writes the expected failure lines for each attack, from IPv4 and IPv6 attackers; a benign client
// delivers; a kernel DROP shows as a blocked connection; and the teardown leaves the root namespace
// exactly as it was, with no process behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MailLab, PORTS, GOOD_USER, runOk, inNs, snapshotRootNamespace, processesMentioning, type Host } from './harness.js';
import { runAttacksIn, isBlocked, type AttackKind, type AttackSpec, type AttackResult } from './attacks.js';

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Which port each attack goes to, and the line(s) Postfix must write for it, given the source address. */
const ATTACKS: ReadonlyArray<{ kind: AttackKind; port: number; lines: (a: string) => RegExp[] }> = [
  {
    kind: 'sasl-login',
    port: PORTS.submission,
    lines: (a) => [new RegExp(`postfix/submission/smtpd\\[\\d+\\]: warning: unknown\\[${esc(a)}\\]: SASL LOGIN authentication failed: .*sasl_username=alice@pban\\.test`)],
  },
  {
    kind: 'sasl-plain',
    port: PORTS.submission,
    lines: (a) => [new RegExp(`postfix/submission/smtpd\\[\\d+\\]: warning: unknown\\[${esc(a)}\\]: SASL PLAIN authentication failed: .*sasl_username=admin0@pban\\.test`)],
  },
  {
    // through postscreen: a new client passes the greet test and is handed to smtpd
    kind: 'unknown-user',
    port: PORTS.postscreen,
    lines: (a) => [
      new RegExp(`postfix/smtpd\\[\\d+\\]: NOQUEUE: reject: RCPT from unknown\\[${esc(a)}\\]: 550 5\\.1\\.1 <nosuchuser0@mail\\.pban\\.test>: Recipient address rejected: User unknown in local recipient table`),
    ],
  },
  {
    kind: 'relay',
    port: PORTS.smtpd,
    lines: (a) => [new RegExp(`postfix/smtpd\\[\\d+\\]: NOQUEUE: reject: RCPT from unknown\\[${esc(a)}\\]: 554 5\\.7\\.1 <victim0@example\\.com>: Relay access denied`)],
  },
  {
    kind: 'pregreet',
    port: PORTS.postscreen,
    lines: (a) => [
      new RegExp(`postfix/postscreen\\[\\d+\\]: PREGREET \\d+ after [\\d.]+ from \\[${esc(a)}\\]:\\d+: EHLO pregreet\\.example`),
      new RegExp(`postfix/postscreen\\[\\d+\\]: NOQUEUE: reject: RCPT from \\[${esc(a)}\\]:\\d+: 550 5\\.5\\.1 Protocol error`),
    ],
  },
  {
    kind: 'pipelining',
    port: PORTS.smtpd,
    lines: (a) => [new RegExp(`postfix/smtpd\\[\\d+\\]: improper command pipelining after (CONNECT|EHLO) from unknown\\[${esc(a)}\\]`)],
  },
];

function describeResult(r: AttackResult): string {
  return `${r.spec.kind} ${r.spec.source} -> ${r.spec.server}:${r.spec.port}: ${r.connect}${r.error ? ` (${r.error})` : ''} replies=${JSON.stringify(r.replies)}`;
}

describe('e2e harness: real Postfix under attack in network namespaces', { timeout: 110_000 }, () => {
  let lab: MailLab;
  let rootBefore: string;
  const started = Date.now();

  before(async () => {
    rootBefore = await snapshotRootNamespace();
    lab = await MailLab.start();
  });

  after(async () => {
    await lab?.teardown(); // no-op when the last test already tore down
  });

  it('builds the namespaces without a default route and starts Postfix + Dovecot only inside the server namespace', async (t) => {
    t.diagnostic(`setup ${JSON.stringify(lab.timings)}`);
    for (const ns of lab.namespaces) {
      const routes = (await runOk(['ip', '-n', ns, 'route', 'show', 'default'])) + (await runOk(['ip', '-n', ns, '-6', 'route', 'show', 'default']));
      assert.equal(routes.trim(), '', `${ns} has a default route`);
    }
    const rootListeners = (await runOk(['ss', '-Hltn'])).split('\n').filter((l) => /:(25|587|2525)\s/.test(l));
    assert.deepEqual(rootListeners, [], 'something listens on a mail port in the root namespace');
    const srvListeners = await runOk(inNs(lab.server, ['ss', '-Hltn']));
    for (const port of [25, 587, 2525]) assert.match(srvListeners, new RegExp(`:${port}\\s`), `port ${port} not listening in the server namespace`);
  });

  it('each attack, from each attacker host and address family, produces its Postfix log line with the attacker address', async () => {
    const from = lab.logSize();
    const plan = (host: Host): AttackSpec[] =>
      ATTACKS.flatMap((a, i) => [
        { kind: a.kind, port: a.port, source: host.v4[i]!, server: host.server4 },
        { kind: a.kind, port: a.port, source: host.v6[i]!, server: host.server6 },
      ]);
    const results = (await Promise.all(lab.attackers.map((h) => runAttacksIn(h.ns, plan(h))))).flat();
    assert.equal(results.length, ATTACKS.length * 2 * lab.attackers.length);
    for (const r of results) {
      assert.equal(r.connect, 'accepted', describeResult(r));
      assert.ok(r.completed, describeResult(r));
    }
    const expected = results.flatMap((r) => ATTACKS.find((a) => a.kind === r.spec.kind)!.lines(r.spec.source));
    await lab.waitForLog(expected, from);
  });

  it('several failures in one connection give one line each (AUTH, RCPT)', async () => {
    const from = lab.logSize();
    const host = lab.attackers[0];
    const results = await runAttacksIn(host.ns, [
      { kind: 'sasl-login', port: PORTS.submission, source: host.v4[6]!, server: host.server4, count: 3 },
      { kind: 'unknown-user', port: PORTS.smtpd, source: host.v6[6]!, server: host.server6, count: 3 },
    ]);
    for (const r of results) assert.ok(r.completed, describeResult(r));
    await lab.waitForLog([new RegExp(`unknown\\[${esc(host.v4[6]!)}\\]: SASL LOGIN authentication failed`)], from);
    const text = lab.readLog(from);
    assert.equal(text.match(new RegExp(`unknown\\[${esc(host.v4[6]!)}\\]: SASL LOGIN authentication failed`, 'g'))?.length, 3);
    for (let i = 0; i < 3; i++) assert.match(text, new RegExp(`RCPT from unknown\\[${esc(host.v6[6]!)}\\]: 550 5\\.1\\.1 <nosuchuser${i}@`));
  });

  it('the benign client delivers through postscreen on 25 (IPv4 and IPv6) and through submission with SASL on 587', async () => {
    const from = lab.logSize();
    const b = lab.benign;
    const results = await runAttacksIn(b.ns, [
      { kind: 'benign', port: PORTS.postscreen, source: b.v4[0]!, server: b.server4 },
      { kind: 'benign', port: PORTS.postscreen, source: b.v6[0]!, server: b.server6 },
      { kind: 'benign', port: PORTS.submission, source: b.v4[0]!, server: b.server4, auth: GOOD_USER },
    ]);
    for (const r of results) {
      assert.ok(r.completed && r.queueId, describeResult(r));
    }
    await lab.waitForLog(
      [
        new RegExp(`postscreen\\[\\d+\\]: PASS NEW \\[${esc(b.v4[0]!)}\\]:\\d+`),
        new RegExp(`postscreen\\[\\d+\\]: PASS NEW \\[${esc(b.v6[0]!)}\\]:\\d+`),
        ...results.map((r) => new RegExp(`postfix/discard\\[\\d+\\]: ${r.queueId}: to=<alice@mail\\.pban\\.test>.* status=sent`)),
      ],
      from,
    );
    assert.doesNotMatch(lab.readLog(from), /authentication failed/);
  });

  it('a kernel DROP in the server namespace shows as a blocked connection, and lifting it reopens the port', async () => {
    const host = lab.attackers[1];
    const victim = host.v4[7]!;
    const probe = (port: number): AttackSpec => ({ kind: 'probe', port, source: victim, server: host.server4, connectTimeoutMs: 700 });
    await runOk(inNs(lab.server, ['nft', '-f', '-']), {
      input: `table inet pbane2e_probe {\n chain input {\n  type filter hook input priority filter; policy accept;\n  ip saddr ${victim} drop\n }\n}\n`,
    });
    const blocked = await runAttacksIn(host.ns, [probe(PORTS.postscreen), probe(PORTS.submission)]);
    for (const r of blocked) assert.ok(isBlocked(r), describeResult(r));
    // another address of the same host is not affected
    const [neighbour] = await runAttacksIn(host.ns, [{ kind: 'probe', port: PORTS.submission, source: host.v4[6]!, server: host.server4 }]);
    assert.ok(neighbour!.completed, describeResult(neighbour!));
    await runOk(inNs(lab.server, ['nft', 'delete', 'table', 'inet', 'pbane2e_probe']));
    const open = await runAttacksIn(host.ns, [probe(PORTS.submission)]);
    assert.ok(open[0]!.completed, describeResult(open[0]!));
  });

  it('tears down in a few seconds: no namespace, process or rule left, root namespace unchanged', async (t) => {
    const dir = lab.dir;
    const namespaces = lab.namespaces;
    const timings = await lab.teardown();
    t.diagnostic(`teardown ${JSON.stringify(timings)}; whole file so far ${Date.now() - started} ms`);
    const list = await runOk(['ip', 'netns', 'list']);
    for (const ns of namespaces) assert.ok(!list.split('\n').some((l) => l.split(' ')[0] === ns), `namespace ${ns} still exists`);
    // A zombie is not visible to `ip netns pids`; give the reaper a moment before calling it a leak.
    let left = processesMentioning(dir);
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = processesMentioning(dir);
    }
    assert.deepEqual(left, [], `processes still mention ${dir}`);
    assert.equal(await snapshotRootNamespace(), rootBefore);
  });
});
