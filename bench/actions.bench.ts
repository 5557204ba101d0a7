// Firewall throughput, inside a network namespace this script creates (the host firewall is
// never touched): for each backend, 10,000 bans in one call, 10,000 unbans in one call, a
// restart that restores 10,000 active bans, and the cost of one ban at a time, into empty sets
// and with the 10,000 bans in place (a firewall tool's cost per call may grow with its sets),
// and one periodic check with the 10,000 in place (it reads every element back).
// Run: npm run bench:actions   (root; needs nft, iptables-nft, iptables-legacy, ipset)
import { execFileSync } from 'node:child_process';
import type { Ban, Target } from '../src/events.js';
import { createAction, target, type ParamValue } from '../src/actions/index.js';

const N = 10_000;
const SINGLE = 200;
/** One-at-a-time bans measured with the 10,000 in the kernel. */
const SINGLE_FULL = 50;
const NS = `pbanact-bench-${process.pid}`;

/** 8,000 IPv4 addresses in 198.18.0.0/15 (the benchmarking range) and 2,000 IPv6 in 2001:db8::/32. */
function targets(n: number, offset = 0): Target[] {
  const out: Target[] = [];
  for (let i = offset; i < offset + n; i++) {
    if (i % 5 === 4) out.push(target(`2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`));
    else out.push(target(`198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}`));
  }
  return out;
}

const BACKENDS: { label: string; action: string; params: Record<string, ParamValue> }[] = [
  { label: 'nftables', action: 'nftables', params: {} },
  { label: 'ipset (+iptables-nft rule)', action: 'ipset', params: { variant: '-nft' } },
  { label: 'iptables-nft', action: 'iptables', params: { variant: '-nft' } },
  { label: 'iptables-legacy', action: 'iptables', params: { variant: '-legacy' } },
];

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const fmt = (x: number) => x.toFixed(1).padStart(8);

async function main(): Promise<void> {
  execFileSync('ip', ['netns', 'add', NS]);
  try {
    console.log(`pban actions benchmark: node ${process.version}, ${N} targets (80% IPv4, 20% IPv6), namespace ${NS}`);
    console.log(`${'backend'.padEnd(28)} ${'ban 10k ms'.padStart(10)} ${'unban 10k'.padStart(10)} ${'restore 10k'.padStart(11)} ${'1 ban/call ms'.padStart(14)} ${'same, 10k in'.padStart(13)} ${'check 10k ms'.padStart(13)}`);
    for (const be of BACKENDS) {
      const now = Date.now();
      const active: Ban[] = [];
      const mk = (t: Target): Ban => ({ target: t, jail: 'bench', kind: 'address', created: now, until: now + 3_600_000, failures: 5, banNumber: 1 });
      const action = createAction(be.action, {
        jail: 'bench', ports: [25, 465, 587], params: be.params, commandPrefix: ['ip', 'netns', 'exec', NS],
        activeBans: () => active, checkIntervalMs: 0,
      });
      if (!(await action.start())) throw new Error(`${be.label}: start failed: ${JSON.stringify(action.health().lastError)}`);
      const bans = targets(N).map(mk);

      let t0 = process.hrtime.bigint();
      if (!(await action.ban(bans))) throw new Error(`${be.label}: ban failed: ${JSON.stringify(action.health().lastError)}`);
      const banMs = ms(t0);
      if (action.health().kernelEntries !== N) throw new Error(`${be.label}: ${action.health().kernelEntries} entries, expected ${N}`);

      t0 = process.hrtime.bigint();
      if (!(await action.unban(bans.map((b) => b.target)))) throw new Error(`${be.label}: unban failed: ${JSON.stringify(action.health().lastError)}`);
      const unbanMs = ms(t0);

      // a restart: 10,000 active bans go back in with the structure, in one batch
      active.push(...bans);
      await action.stop();
      t0 = process.hrtime.bigint();
      if (!(await action.start())) throw new Error(`${be.label}: restore failed: ${JSON.stringify(action.health().lastError)}`);
      const restoreMs = ms(t0);

      // the periodic check: list every element and compare with the bans
      t0 = process.hrtime.bigint();
      if (!(await action.check())) throw new Error(`${be.label}: check failed: ${JSON.stringify(action.health().lastError)}`);
      const checkMs = ms(t0);

      // one ban per call with the 10,000 in the kernel
      const more = targets(SINGLE_FULL, N + SINGLE).map(mk);
      t0 = process.hrtime.bigint();
      for (const b of more) await action.ban([b]);
      const singleFullMs = ms(t0) / SINGLE_FULL;
      if (action.health().kernelEntries !== N + SINGLE_FULL) throw new Error(`${be.label}: ${action.health().kernelEntries} entries after single bans, expected ${N + SINGLE_FULL}`);
      active.length = 0;
      await action.flush();

      // the fail2ban way: one program start per ban
      const singles = targets(SINGLE, N).map(mk);
      t0 = process.hrtime.bigint();
      for (const b of singles) await action.ban([b]);
      const singleMs = ms(t0) / SINGLE;
      if (action.health().state !== 'healthy') throw new Error(`${be.label}: single bans failed: ${JSON.stringify(action.health().lastError)}`);
      await action.stop();
      console.log(`${be.label.padEnd(28)} ${fmt(banMs)}   ${fmt(unbanMs)}   ${fmt(restoreMs)}    ${fmt(singleMs)}      ${fmt(singleFullMs)}      ${fmt(checkMs)}`);
      if (be.action === 'iptables') {
        console.log(`${''.padEnd(28)} batched: ${(banMs / N).toFixed(3)} ms per ban; one call per ban: ${singleMs.toFixed(1)} ms per ban ` +
          `(${Math.round((singleMs * N) / 1000)} s for 10k); every packet walks the chain rule by rule`);
      }
    }
  } finally {
    execFileSync('ip', ['netns', 'del', NS]);
  }
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
