// `pban queue` on a real Postfix whose queue the test fills (issue 13): legitimate deferred
// mail, backscatter (Postfix's own bounces to forged senders at domains that do not resolve), and
// mail from a client the log shows attacking. The bounces are real: a message to a relay domain
// is aliased to an `error:` transport after smtpd accepted it, so Postfix returns it to its
// (forged) sender, and the smtp client cannot resolve that sender's domain from inside the
// namespace, so the bounce waits in the deferred queue as on a server under attack.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MailLab, run, runOk, inNs } from './harness.js';
import { runAttacksIn } from './attacks.js';
import { PbanDaemon, writePbanConfig } from './pban-fixture.js';
import { postsuper, readOrigins } from '../../src/queue/postfix.js';
import { PBAN_BIN } from '../helpers/run-cli.js';
import type { MailSpec } from './queue-mail.js';
import { runPban, type CliResult } from '../helpers/run-cli.js';

const MAIL_JS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'queue-mail.js');

interface QueueLine {
  queue_name: string;
  queue_id: string;
  sender: string;
  recipients: { address: string; delay_reason?: string }[];
}

interface JsonMessage {
  id: string;
  queue: string;
  sender: string;
  null_sender: boolean;
  recipients: { address: string; reason: string | null; reason_class: string | null }[];
  client: string | null;
  client_source: string | null;
  backscatter: string[];
}

interface JsonSummary {
  total: number;
  queues: Record<string, number>;
  senders: { sender: string; messages: number }[];
  recipient_domains: { domain: string; messages: number }[];
  backscatter: { messages: number; why: Record<string, number> };
  messages: JsonMessage[];
  notes: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('pban queue on a real Postfix queue', { timeout: 240_000 }, () => {
  let lab: MailLab;
  let dir: string;
  let config: string;
  let cfgDir: string;
  /** Recipient address → queue id, for every message the test expects in the queue. */
  const byRecipient = new Map<string, string>();
  let backscatterIds: Set<string>;
  let legitIds: Set<string>;

  const queue = async (): Promise<QueueLine[]> => {
    const r = await runOk(['postqueue', '-c', cfgDir, '-j']);
    return r
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as QueueLine);
  };
  const pban = (...args: string[]): CliResult => runPban(['queue', ...args.slice(0, 1), '-C', cfgDir, '-c', config, ...args.slice(1)]);

  before(async () => {
    lab = await MailLab.start({ addressesPerAttacker: 2 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'pban-queue-'));
    config = writePbanConfig(lab, dir, { maxretry: 3, bantime: '1h' });
    cfgDir = lab.postfixConfigDir;
    // relay.pban.test and hold.pban.test are accepted by smtpd, then aliased to domains whose
    // transport bounces (dead.) or defers (backend.): smtpd would refuse an error: transport at
    // RCPT time. example.org defers like a greylisting server.
    writeFileSync(path.join(cfgDir, 'transport'), 'dead.pban.test error:5.1.1 User unknown in backend\nbackend.pban.test retry:4.3.0 backend is down for maintenance\nexample.org retry:4.7.1 greylisted, try again later\n');
    writeFileSync(path.join(cfgDir, 'virtual'), '@relay.pban.test @dead.pban.test\n@hold.pban.test @backend.pban.test\n');
    await runOk([
      'postconf', '-c', cfgDir, '-e',
      'relay_domains = relay.pban.test, hold.pban.test',
      `transport_maps = texthash:${cfgDir}/transport`,
      `virtual_alias_maps = texthash:${cfgDir}/virtual`,
      'default_transport = smtp',
      'relay_transport = smtp',
      // a bounce is retried only when the test says so
      'queue_run_delay = 1h', 'minimal_backoff_time = 1h', 'maximal_backoff_time = 2h',
    ]);
    await runOk(['postconf', '-c', cfgDir, '-M', 'showq/unix=showq unix n - n - - showq', 'smtp/unix=smtp unix - - n - - smtp', 'pickup/unix=pickup unix n - n 60 1 pickup']);
    await runOk(inNs(lab.server, ['postfix', '-c', cfgDir, 'reload']));
    await sleep(1500);

    const [atk1, atk2] = lab.attackers;
    const good = lab.benign;
    // The attacker fails SASL logins first: the log shows it attacking.
    await runAttacksIn(atk1.ns, [{ kind: 'sasl-login', source: atk1.v4[0]!, server: atk1.server4, port: 587, count: 4 }]);
    const mail = (from: string, to: string, subject: string, source: string, server: string): MailSpec => ({ source, server, port: 2525, from, to: [to], subject });
    const atkMail: MailSpec[] = [
      mail('victim1@forged1.invalid', 'nobody1@relay.pban.test', 'spam 1', atk1.v4[0]!, atk1.server4),
      mail('victim2@forged2.invalid', 'nobody2@relay.pban.test', 'spam 2', atk1.v4[0]!, atk1.server4),
      mail('"$(touch /tmp/pban-pwned)"@forged3.invalid', 'nobody3@relay.pban.test', 'spam 3', atk1.v4[0]!, atk1.server4),
      mail('spam@spammer.example', 'x@hold.pban.test', 'spam 4', atk1.v4[0]!, atk1.server4),
    ];
    // A second client, not seen attacking: its bounce is backscatter only by its dead domain.
    const atk2Mail = [mail('victim9@forged9.invalid', 'nobody9@relay.pban.test', 'spam 9', atk2.v4[0]!, atk2.server4)];
    const goodMail = [
      mail('carol@example.com', 'dave@hold.pban.test', 'legit', good.v4[0]!, good.server4),
      // a legitimate bounce: null sender, but to a domain that takes mail (it greylists)
      mail('erin@example.org', 'nobody@relay.pban.test', 'legit bounce', good.v4[0]!, good.server4),
    ];
    await Promise.all([
      runOk(inNs(atk1.ns, ['node', MAIL_JS, JSON.stringify(atkMail)])),
      runOk(inNs(atk2.ns, ['node', MAIL_JS, JSON.stringify(atk2Mail)])),
      runOk(inNs(good.ns, ['node', MAIL_JS, JSON.stringify(goodMail)])),
    ]);
    // Local mail, through sendmail and pickup: no client at all.
    await runOk(inNs(lab.server, ['sendmail', '-C', cfgDir, '-f', 'alice@mail.pban.test', 'bob@example.org']), { input: 'Subject: local\n\nhello\n' });

    // Wait for Postfix to settle: the originals to relay.pban.test bounced and left, and every
    // recipient has a deferral reason.
    const expected = ['victim1@forged1.invalid', 'victim2@forged2.invalid', '"$(touch /tmp/pban-pwned)"@forged3.invalid', 'x@backend.pban.test', 'victim9@forged9.invalid', 'dave@backend.pban.test', 'erin@example.org', 'bob@example.org'];
    let last: QueueLine[] = [];
    for (let i = 0; ; i++) {
      last = await queue();
      const rcpts = last.flatMap((m) => m.recipients);
      if (last.length === expected.length && rcpts.every((r) => r.delay_reason !== undefined) && expected.every((e) => rcpts.some((r) => r.address === e))) break;
      if (i > 120) throw new Error(`queue did not settle: ${JSON.stringify(last)}${lab.logTail(30)}`);
      await sleep(500);
    }
    for (const m of last) byRecipient.set(m.recipients[0]!.address, m.queue_id);
    const id = (rcpt: string): string => byRecipient.get(rcpt)!;
    backscatterIds = new Set(['victim1@forged1.invalid', 'victim2@forged2.invalid', '"$(touch /tmp/pban-pwned)"@forged3.invalid', 'x@backend.pban.test', 'victim9@forged9.invalid'].map(id));
    legitIds = new Set(['dave@backend.pban.test', 'erin@example.org', 'bob@example.org'].map(id));
  });

  after(async () => {
    await lab?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('summarises the queue and flags exactly the backscatter', () => {
    const r = pban('--json', '--log', lab.logPath);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as JsonSummary;
    assert.equal(s.total, 8);
    assert.equal(s.queues['deferred'], 8);
    const flagged = new Set(s.messages.filter((m) => m.backscatter.length > 0).map((m) => m.id));
    assert.deepEqual([...flagged].sort(), [...backscatterIds].sort(), JSON.stringify(s.messages, null, 1));
    assert.equal(s.backscatter.messages, 5);
    const atk1 = lab.attackers[0].v4[0]!;
    const byId = new Map(s.messages.map((m) => [m.id, m]));
    // The bounces from the attacker: dead domain, and their original client failed in the log.
    const b1 = byId.get(byRecipient.get('victim1@forged1.invalid')!)!;
    assert.equal(b1.null_sender, true);
    assert.equal(b1.client, atk1);
    assert.equal(b1.client_source, 'bounced-message');
    assert.deepEqual(b1.backscatter, ['bounce-to-dead-domain', 'failed-client']);
    assert.match(b1.recipients[0]!.reason_class!, /^(no-such-domain|unreachable)$/, JSON.stringify(b1.recipients));
    // The bounce caused by the other client: only its dead domain.
    assert.deepEqual(byId.get(byRecipient.get('victim9@forged9.invalid')!)!.backscatter, ['bounce-to-dead-domain']);
    // The attacker's own deferred message: it came from a client failing in the log.
    const spam = byId.get(byRecipient.get('x@backend.pban.test')!)!;
    assert.deepEqual(spam.backscatter, ['failed-client']);
    assert.equal(spam.client_source, 'envelope');
    // The legitimate bounce: null sender, but its domain takes mail (greylisting is temporary).
    const legitBounce = byId.get(byRecipient.get('erin@example.org')!)!;
    assert.equal(legitBounce.null_sender, true);
    assert.deepEqual(legitBounce.backscatter, []);
    assert.equal(legitBounce.recipients[0]!.reason_class, 'temporary');
    assert.equal(byId.get(byRecipient.get('bob@example.org')!)!.client, null);
    assert.deepEqual(s.senders.find((x) => x.sender === '<>'), { sender: '<>', messages: 5 });
    // pban is not running here and its store does not exist: said, not hidden.
    assert.ok(s.notes.some((n) => /banned clients not checked/.test(n)), JSON.stringify(s.notes));
  });

  it('without --log, the attacker\'s non-bounce is not flagged; the table shows the same counts', () => {
    const r = pban();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Postfix queue: 8 messages \(active 0, deferred 8, hold 0, incoming 0\)/);
    assert.match(r.stdout, /Backscatter: 4 messages \(4 bounces to domains that take no mail\)/);
    assert.match(r.stdout, /^<> +5$/m);
    assert.match(r.stdout, /^CLASS +RECIPIENTS +DEFERRAL REASON$/m);
    assert.match(r.stdout, /^no-such-domain +4 +unable to look up host …: Temporary failure in name resolution$/m);
    // The hint repeats the options that decide what is flagged.
    assert.ok(r.stdout.includes(`To list the backscatter: pban queue delete --backscatter -C ${cfgDir} -c ${config} --dry-run\n`), r.stdout);
  });

  it('takes the banned clients from the store when pban is not running', () => {
    // A replay of the lab's log into the config's database bans the attacker (maxretry 3).
    const rp = runPban(['replay', '-c', config, '--database', path.join(dir, 'pban.sqlite'), lab.logPath]);
    assert.equal(rp.status, 0, rp.stderr);
    assert.match(rp.stdout, new RegExp(`ban +postfix +${lab.attackers[0].v4[0]!.replace(/\./g, '\\.')}`));
    const r = pban('--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as JsonSummary;
    const spam = s.messages.find((m) => m.id === byRecipient.get('x@backend.pban.test'))!;
    assert.deepEqual(spam.backscatter, ['banned-client']);
    assert.equal(s.backscatter.messages, 5);
    rmSync(path.join(dir, 'pban.sqlite'), { force: true });
    for (const suffix of ['-wal', '-shm']) rmSync(path.join(dir, `pban.sqlite${suffix}`), { force: true });
  });

  it('takes the banned clients from the running daemon over its control socket', async () => {
    const daemon = await PbanDaemon.start(lab, config, path.join(dir, 'daemon.log'), 30_000);
    try {
      const victim9 = byRecipient.get('victim9@forged9.invalid')!;
      const ban = runPban(['ban', 'postfix', lab.attackers[1].v4[0]!, '-c', config]);
      assert.equal(ban.status, 0, ban.stderr);
      const r = pban('--json');
      assert.equal(r.status, 0, r.stderr);
      const s = JSON.parse(r.stdout) as JsonSummary;
      assert.deepEqual(s.messages.find((m) => m.id === victim9)!.backscatter, ['bounce-to-dead-domain', 'banned-client']);
      assert.ok(!s.notes.some((n) => /banned clients/.test(n)), JSON.stringify(s.notes));
    } finally {
      await daemon.stop();
      for (const suffix of ['', '-wal', '-shm', '.identity']) rmSync(path.join(dir, `pban.sqlite${suffix}`), { force: true });
    }
  });

  it('asks on a terminal, and a "no" changes nothing', async () => {
    const before = await queue();
    // script(1) gives pban a terminal; the command line is the test's own, not queue text.
    const cmd = `${process.execPath} ${PBAN_BIN} queue delete --sender carol@example.com -C ${cfgDir} -c ${config}`;
    const r = await run(['script', '-qec', cmd, '/dev/null'], { input: 'n\n', timeoutMs: 60_000 });
    assert.match(r.stdout, /Delete these 1 messages\? \[y\/N\]/);
    assert.match(r.stdout, /pban: nothing deleted/);
    assert.equal(r.code, 1);
    assert.deepEqual((await queue()).map((m) => m.queue_id).sort(), before.map((m) => m.queue_id).sort());
  });

  it('a queue id that vanished is no error for postcat or postsuper', async () => {
    const ids = [...legitIds];
    const o = await readOrigins({ configDir: cfgDir }, [ids[0]!, 'F00BA4C0FFEE', ids[1]!]);
    assert.deepEqual([...o.vanished], ['F00BA4C0FFEE']);
    assert.ok(o.origins.has(ids[0]!) && o.origins.has(ids[1]!));
    const d = await postsuper({ configDir: cfgDir }, 'delete', ['F00BA4C0FFEE']);
    assert.equal(d.done.size, 0);
    assert.deepEqual(d.warnings, []);
  });

  it('refuses to act without a selector, and without a terminal unless --yes', async () => {
    const before = (await queue()).length;
    const none = pban('delete');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^pban: no selector/);
    const noTty = pban('delete', '--backscatter');
    assert.equal(noTty.status, 2, noTty.stderr);
    assert.match(noTty.stderr, /refusing to delete 4 messages without confirmation: not a terminal/);
    assert.equal((await queue()).length, before);
  });

  it('--dry-run lists the selection and changes nothing', async () => {
    const r = pban('delete', '--client', '198.51.100.0/24', '--dry-run', '--log', lab.logPath);
    assert.equal(r.status, 0, r.stderr);
    for (const rcpt of ['victim1@forged1.invalid', 'victim2@forged2.invalid', 'x@backend.pban.test']) assert.ok(r.stdout.includes(byRecipient.get(rcpt)!), rcpt);
    assert.ok(!r.stdout.includes(byRecipient.get('victim9@forged9.invalid')!));
    assert.match(r.stdout, /dry run: 4 messages would be deleted/);
    // The hostile sender is printed as text; nothing ran it.
    assert.ok(r.stdout.includes('"$(touch /tmp/pban-pwned)"@forged3.invalid'));
    assert.equal((await queue()).length, 8);
  });

  it('holds and releases a selection', async () => {
    const carol = byRecipient.get('dave@backend.pban.test')!;
    const h = pban('hold', '--sender', 'carol@example.com', '--yes');
    assert.equal(h.status, 0, h.stderr);
    assert.match(h.stdout, /1 messages put on hold/);
    assert.equal((await queue()).find((m) => m.queue_id === carol)?.queue_name, 'hold');
    const rel = pban('release', '--recipient-domain', 'backend.pban.test', '--yes');
    assert.equal(rel.status, 0, rel.stderr);
    assert.match(rel.stdout, /1 messages released/);
    assert.equal((await queue()).find((m) => m.queue_id === carol)?.queue_name, 'deferred');
  });

  it('delete --backscatter --yes removes exactly the backscatter and keeps every legitimate message', async () => {
    const r = pban('delete', '--backscatter', '--yes', '--log', lab.logPath);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /5 messages deleted/);
    const left = await queue();
    assert.deepEqual(left.map((m) => m.queue_id).sort(), [...legitIds].sort());
    const again = pban('delete', '--backscatter', '--yes', '--log', lab.logPath);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /no message matches/);
  });

  it('says in one line that Postfix is missing', () => {
    const r = runPban(['queue', '-c', config], { env: { ...process.env, PATH: '/nonexistent' } });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'pban: postqueue not found in PATH: is Postfix installed?\n');
  });

  it('says in one line that the Postfix config directory is wrong', () => {
    const r = runPban(['queue', '-C', path.join(dir, 'no-such-postfix'), '-c', config]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^pban: postqueue -j failed: postqueue: fatal: .*no-such-postfix.*\n$/);
  });

  it('leaves the queue intact when Postfix is stopped, and says so', async () => {
    await run(inNs(lab.server, ['postfix', '-c', cfgDir, 'stop']), { timeoutMs: 15_000 });
    const r = pban('--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as JsonSummary;
    assert.equal(s.total, 3);
    assert.ok(s.notes.includes('Postfix is not running: postqueue read the queue files directly'), JSON.stringify(s.notes));
  });
});
