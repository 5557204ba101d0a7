// How long `pban queue` takes on a queue full of backscatter, on a REAL Postfix (the e2e lab):
// N forged-sender messages are bounced by Postfix, the bounces wait in the deferred queue, and
// the bench times the CLI (`pban queue --json`, process start included) and its three steps
// (postqueue -j, postcat -q for every message, postsuper). No target: the figures say what an
// admin waits for. Run as root: node dist/bench/queue.bench.js (PBAN_BENCH_MESSAGES=2000).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MailLab, run, runOk, inNs } from '../test/e2e/harness.js';
import { listQueue, postsuper, readOrigins } from '../src/queue/postfix.js';
import type { MailSpec } from '../test/e2e/queue-mail.js';

const N = Number(process.env['PBAN_BENCH_MESSAGES'] ?? 2000);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const PBAN_BIN = path.resolve(HERE, '../src/cli/main.js');
const MAIL_JS = path.resolve(HERE, '../test/e2e/queue-mail.js');

const lab = await MailLab.start({ addressesPerAttacker: 1 });
try {
  const cfg = lab.postfixConfigDir;
  writeFileSync(path.join(cfg, 'transport'), 'dead.pban.test error:5.1.1 User unknown in backend\n');
  writeFileSync(path.join(cfg, 'virtual'), '@relay.pban.test @dead.pban.test\n');
  await runOk(['postconf', '-c', cfg, '-e', 'relay_domains = relay.pban.test', `transport_maps = texthash:${cfg}/transport`, `virtual_alias_maps = texthash:${cfg}/virtual`,
    'default_transport = smtp', 'relay_transport = smtp', 'queue_run_delay = 1h', 'minimal_backoff_time = 1h', 'maximal_backoff_time = 2h']);
  await runOk(['postconf', '-c', cfg, '-M', 'showq/unix=showq unix n - n - - showq', 'smtp/unix=smtp unix - - n - - smtp']);
  await runOk(inNs(lab.server, ['postfix', '-c', cfg, 'reload']));
  await new Promise((r) => setTimeout(r, 1500));
  const atk = lab.attackers[0];
  const specs: MailSpec[] = Array.from({ length: N }, (_, i) => ({ source: atk.v4[0]!, server: atk.server4, port: 2525, from: `victim${i}@forged${i % 50}.invalid`, to: [`n${i}@relay.pban.test`], subject: `spam ${i}` }));
  for (let i = 0; i < N; i += 500) await runOk(inNs(atk.ns, ['node', MAIL_JS, JSON.stringify(specs.slice(i, i + 500))]), { timeoutMs: 600_000 });
  for (;;) {
    const q = await run(['postqueue', '-c', cfg, '-j']);
    const lines = q.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { sender: string; recipients: { delay_reason?: string }[] });
    if (lines.length >= N && lines.every((m) => m.sender === 'MAILER-DAEMON' && m.recipients.every((r) => r.delay_reason !== undefined))) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  let t = Date.now();
  const cli = spawnSync(process.execPath, [PBAN_BIN, 'queue', '--json', '-C', cfg, '-c', '/nonexistent/pban.toml'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const cliMs = Date.now() - t;
  const s = JSON.parse(cli.stdout) as { total: number; backscatter: { messages: number } };
  t = Date.now();
  const listing = await listQueue({ configDir: cfg });
  const listMs = Date.now() - t;
  t = Date.now();
  await readOrigins({ configDir: cfg }, listing.messages.map((m) => m.id));
  const catMs = Date.now() - t;
  t = Date.now();
  const del = await postsuper({ configDir: cfg }, 'delete', listing.messages.map((m) => m.id));
  const delMs = Date.now() - t;
  console.log(`queue of ${s.total} bounces (${s.backscatter.messages} flagged as backscatter)`);
  console.log(`pban queue --json (whole command): ${cliMs} ms`);
  console.log(`  postqueue -j: ${listMs} ms; postcat -q of every message: ${catMs} ms (${(catMs / N).toFixed(2)} ms/message)`);
  console.log(`postsuper -d - of ${del.done.size} ids: ${delMs} ms`);
} finally {
  await lab.teardown();
}
