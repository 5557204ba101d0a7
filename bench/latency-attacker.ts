// Paced client for bench/latency.bench.ts, run inside a lab namespace:
//   ip netns exec <ns> node latency-attacker.js '<JSON Plan>'
// attack-runner.js starts every client at once; a latency measurement needs them spread out in
// time (one failure every few tens of ms), so this one starts spec i at startAt + i * intervalMs,
// without waiting for earlier clients. Prints one JSON Report on stdout.
import { runAttack, type AttackSpec, type AttackResult } from '../test/e2e/attacks.js';

export interface Plan {
  specs: AttackSpec[];
  /** Wall-clock ms (Date.now()) of the first start: lets several namespaces interleave. */
  startAt: number;
  /** Gap between two starts; 0 starts all at once (a burst). */
  intervalMs: number;
}

export interface Report {
  /** Per spec: when it was started (Date.now()) and what happened to it. */
  results: Array<{ source: string; kind: string; startedAt: number; connect: AttackResult['connect']; completed: boolean; error?: string }>;
}

const sleepUntil = (t: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

async function main(plan: Plan): Promise<Report> {
  const running: Promise<Report['results'][number]>[] = [];
  for (let i = 0; i < plan.specs.length; i++) {
    const spec = plan.specs[i]!;
    await sleepUntil(plan.startAt + i * plan.intervalMs);
    const startedAt = Date.now();
    running.push(
      runAttack(spec).then((r) => ({
        source: spec.source,
        kind: spec.kind,
        startedAt,
        connect: r.connect,
        completed: r.completed,
        ...(r.error !== undefined ? { error: r.error } : {}),
      })),
    );
  }
  return { results: await Promise.all(running) };
}

const arg = process.argv[2];
if (arg === undefined) {
  process.stderr.write('usage: latency-attacker.js <JSON plan>\n');
  process.exitCode = 2;
} else {
  process.stdout.write(JSON.stringify(await main(JSON.parse(arg) as Plan)));
}
