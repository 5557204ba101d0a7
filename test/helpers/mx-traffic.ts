// Seeded Postfix logs of a busy inbound MX, to check that a config is safe to run:
//
//   busy     a day of legitimate traffic. Big senders' outbound pools (several hosts in one /24
//            or /64, each with a verified name) retry greylisted mail, lose connections after
//            STARTTLS (five hosts of one pool, four times each in eight minutes, as Outlook's
//            do), fail TLS handshakes, hit DNS trouble (sender domain not found, client host
//            name not found), are listed by a DNSBL now and then, and mistype a recipient once
//            in a while; users mistype their password once or twice. Nothing here is an attack.
//   attacks  two hours of ordinary traffic with attacks: SASL brute force, dictionary RCPT
//            probes and relay probes, each from a single address (IPv4 and IPv6), and the same
//            spread over the /24 203.0.113.0/24 and the /64 2001:db8:64::/64 with at most two
//            tries per address. ATTACK_TARGETS lists what a safe config must ban.
//
// Every line has an RFC 3339 date, so the year never has to be guessed. Addresses are
// reserved for documentation (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32)
// or benchmarking (198.18.0.0/15): nothing real is named.
//
// Usage: node dist/test/helpers/mx-traffic.js busy|attacks --out FILE [--seed N] [--start ISO]
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { seededRandom } from './prng.js';

export type TrafficKind = 'busy' | 'attacks';

/** What `pban replay -c jail.example.toml` must ban in an `attacks` log, and nothing else. */
export const ATTACK_TARGETS: readonly string[] = [
  '192.0.2.10/32', // SASL brute force
  '192.0.2.20/32', // dictionary RCPT probes
  '198.51.100.30/32', // relay probes
  '2001:db8:a::1/128', // SASL brute force over IPv6
  '203.0.113.0/24', // brute force, dictionary and relay probes spread over a /24
  '2001:db8:64::/64', // the same spread over a /64
];

interface Host {
  readonly name: string;
  readonly addr: string;
}

/** A big sender's outbound pool: hosts sharing one network, each with a verified name. */
interface Pool {
  readonly hosts: readonly Host[];
  /** Messages per hour from the whole pool. */
  readonly rate: number;
}

const DOMAIN = 'example.org';

function pools(): Pool[] {
  const range = (n: number, f: (i: number) => Host) => Array.from({ length: n }, (_, i) => f(i));
  return [
    { rate: 400, hosts: range(20, (i) => ({ name: `mail-db8eur05on2${100 + i}.outbound.protection.outlook.com`, addr: `198.18.6.${100 + i}` })) },
    { rate: 300, hosts: range(12, (i) => ({ name: `mail-yw1-f${170 + i}.google.com`, addr: `198.18.9.${170 + i}` })) },
    { rate: 150, hosts: range(8, (i) => ({ name: `mail-ej1-x${630 + i}.google.com`, addr: `2001:db8:4860:4864::${630 + i}` })) },
    { rate: 150, hosts: range(10, (i) => ({ name: `a${20 + i}-${100 + i}.smtp-out.amazonses.com`, addr: `198.18.20.${100 + i}` })) },
    { rate: 80, hosts: range(6, (i) => ({ name: `mta${i + 1}.mail.example.net`, addr: `198.18.33.${10 + i}` })) },
  ];
}

class Log {
  private readonly lines: { t: number; text: string }[] = [];
  private pid = 1000;

  constructor(readonly rnd: () => number) {}

  add(t: number, program: string, message: string): void {
    const pid = this.pid++;
    this.lines.push({ t, text: `${new Date(Math.round(t)).toISOString().replace('Z', '+00:00')} mx postfix/${program}[${pid}]: ${message}` });
  }

  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)] as T;
  }

  qid(): string {
    return Array.from({ length: 10 }, () => '0123456789ABCDEF'[this.int(16)]).join('');
  }

  text(): string {
    this.lines.sort((a, b) => a.t - b.t);
    return this.lines.map((l) => `${l.text}\n`).join('');
  }
}

const client = (h: Host) => `${h.name}[${h.addr}]`;

/** An ordinary delivered message: connect, TLS, client=, cleanup, qmgr, disconnect. */
function delivery(log: Log, t: number, h: Host): void {
  const q = log.qid();
  log.add(t, 'smtpd', `connect from ${client(h)}`);
  log.add(t + 40, 'smtpd', `Anonymous TLS connection established from ${client(h)}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)`);
  log.add(t + 300, 'smtpd', `${q}: client=${client(h)}`);
  log.add(t + 320, 'cleanup', `${q}: message-id=<${q}@${h.name}>`);
  log.add(t + 330, 'qmgr', `${q}: from=<bounce@${h.name}>, size=${2000 + log.int(90000)}, nrcpt=1 (queue active)`);
  log.add(t + 400, 'smtpd', `disconnect from ${client(h)} ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7`);
  log.add(t + 500, 'local', `${q}: to=<user${log.int(50)}@${DOMAIN}>, relay=local, delay=0.5, status=sent (delivered to mailbox)`);
}

function reject(log: Log, t: number, h: Host, reply: string, from = `bounce@${h.name.replace(/^[^.]+\./, '')}`, rcpt = `user${log.int(50)}@${DOMAIN}`): void {
  log.add(t, 'smtpd', `NOQUEUE: reject: RCPT from ${client(h)}: ${reply.replace('RCPT', `<${rcpt}>`)}; from=<${from}> to=<${rcpt}> proto=ESMTP helo=<${h.name}>`);
}

/** Legitimate traffic from `start` for `hours`, with every hiccup big senders cause. */
function legitimate(log: Log, start: number, hours: number): void {
  const H = 3_600_000;
  const end = start + hours * H;
  for (const pool of pools()) {
    // Deliveries, evenly random over the period.
    for (let n = 0; n < pool.rate * hours; n++) delivery(log, start + log.rnd() * (end - start - 1000), log.pick(pool.hosts));
    // Greylisting: a first attempt is deferred, the retry 5 to 15 minutes later is delivered.
    for (let n = 0; n < (pool.rate * hours) / 10; n++) {
      const h = log.pick(pool.hosts);
      const t = start + log.rnd() * (end - start - 20 * 60_000);
      reject(log, t, h, `450 4.2.0 RCPT: Recipient address rejected: Greylisted, see http://postgrey.example/help/${DOMAIN}.html`);
      delivery(log, t + 300_000 + log.rnd() * 600_000, log.pick(pool.hosts));
    }
    // Lost connections after STARTTLS: five hosts of the pool, four times each in eight minutes,
    // every three hours (the pattern that got a /24 banned with the old example config).
    for (let t = start + H; t < end - 10 * 60_000; t += 3 * H) {
      for (const h of pool.hosts.slice(0, 5)) {
        for (let k = 0; k < 4; k++) {
          const at = t + k * 120_000 + log.int(30_000);
          log.add(at, 'smtpd', `connect from ${client(h)}`);
          log.add(at + 50, 'smtpd', `lost connection after STARTTLS from ${client(h)}`);
          log.add(at + 60, 'smtpd', `disconnect from ${client(h)} ehlo=1 starttls=1 commands=2`);
        }
      }
    }
    // TLS handshake failures, a few an hour.
    for (let n = 0; n < 3 * hours; n++) {
      const h = log.pick(pool.hosts);
      const t = start + log.rnd() * (end - start - 1000);
      log.add(t, 'smtpd', `connect from ${client(h)}`);
      log.add(t + 30, 'smtpd', 'warning: TLS library problem: error:0A000126:SSL routines::unexpected eof while reading:../ssl/record/rec_layer_s3.c:322:');
      log.add(t + 31, 'smtpd', `SSL_accept error from ${client(h)}: lost connection`);
      log.add(t + 32, 'smtpd', `lost connection after STARTTLS from ${client(h)}`);
    }
    // DNS trouble at the sender, a DNSBL listing and a mistyped recipient, now and then: at most
    // three from one host within ten minutes.
    for (let n = 0; n < hours / 2; n++) {
      const h = log.pick(pool.hosts);
      const t = start + log.rnd() * (end - start - 20 * 60_000);
      for (let k = 0; k < 3; k++) reject(log, t + k * 60_000, h, '450 4.1.8 RCPT: Sender address rejected: Domain not found', `news@lists.sender.example`);
      const g = log.pick(pool.hosts);
      reject(log, t + 300_000, g, `554 5.7.1 Service unavailable; Client host [${g.addr}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/${g.addr}`);
      reject(log, t + 400_000, log.pick(pool.hosts), '550 5.1.1 RCPT: Recipient address rejected: User unknown in virtual mailbox table', 'someone@sender.example', `jhon.doe@${DOMAIN}`);
    }
  }
  // Small servers without matching reverse DNS: `unknown`, and Postfix defers them.
  for (let n = 0; n < 4 * hours; n++) {
    const h = { name: 'unknown', addr: `198.19.${log.int(200)}.${1 + log.int(250)}` };
    const t = start + log.rnd() * (end - start - 20 * 60_000);
    for (let k = 0; k < 2; k++) reject(log, t + k * 400_000, h, '450 4.7.25 Client host rejected: cannot find your hostname', 'info@small.example');
  }
  // Users who mistype their password once or twice, then log in.
  for (let n = 0; n < 6 * hours; n++) {
    const h = { name: 'unknown', addr: `198.19.${200 + log.int(50)}.${1 + log.int(250)}` };
    const t = start + log.rnd() * (end - start - 60_000);
    const tries = 1 + log.int(2);
    for (let k = 0; k < tries; k++) log.add(t + k * 5000, 'submission/smtpd', `warning: ${client(h)}: SASL PLAIN authentication failed: authentication failure, sasl_username=user${n}@${DOMAIN}`);
    log.add(t + tries * 5000 + 2000, 'submission/smtpd', `disconnect from ${client(h)} ehlo=2 starttls=1 auth=1/${tries + 1} quit=1 commands=5/${tries + 5}`);
  }
}

function bruteForce(log: Log, t: number, h: Host, tries: number, gapMs: number): void {
  for (let k = 0; k < tries; k++) log.add(t + k * gapMs, 'submission/smtpd', `warning: ${client(h)}: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=admin${k}`);
}

function dictionary(log: Log, t: number, h: Host, tries: number, gapMs: number): void {
  const names = ['admin', 'info', 'sales', 'office', 'support', 'test', 'webmaster', 'contact', 'billing', 'hr', 'jobs', 'marketing', 'root', 'postmaster', 'mail', 'user'];
  for (let k = 0; k < tries; k++) reject(log, t + k * gapMs, h, '550 5.1.1 RCPT: Recipient address rejected: User unknown in virtual mailbox table', 'x@spam.example', `${names[k % names.length]}${k}@${DOMAIN}`);
}

function relay(log: Log, t: number, h: Host, tries: number, gapMs: number): void {
  for (let k = 0; k < tries; k++) reject(log, t + k * gapMs, h, '454 4.7.1 RCPT: Relay access denied', 'x@spam.example', `victim${k}@elsewhere.example`);
}

/** Two hours of ordinary traffic with the attacks of ATTACK_TARGETS in it. */
function attacks(log: Log, start: number): void {
  legitimate(log, start, 2);
  const M = 60_000;
  const unknown = (addr: string): Host => ({ name: 'unknown', addr });
  bruteForce(log, start + 10 * M, unknown('192.0.2.10'), 40, 3000);
  dictionary(log, start + 20 * M, unknown('192.0.2.20'), 30, 2000);
  relay(log, start + 30 * M, unknown('198.51.100.30'), 12, 5000);
  bruteForce(log, start + 40 * M, unknown('2001:db8:a::1'), 25, 4000);
  // Spread: each address tries at most twice (below the address threshold), together many times.
  const attacks = [bruteForce, dictionary, relay];
  for (let i = 0; i < 40; i++) {
    const h = unknown(`203.0.113.${10 + i}`);
    for (let k = 0; k < 2; k++) log.pick(attacks)(log, start + 60 * M + log.rnd() * 8 * M, h, 1, 0);
  }
  for (let i = 0; i < 30; i++) {
    const h = unknown(`2001:db8:64::${(0x1000 + log.int(0xefff)).toString(16)}:${(1 + i).toString(16)}`);
    for (let k = 0; k < 2; k++) log.pick(attacks)(log, start + 80 * M + log.rnd() * 8 * M, h, 1, 0);
  }
}

/** The whole log as text. `start`: time of the first line (ms). */
export function generateMxTraffic(kind: TrafficKind, seed: number, start: number): string {
  const log = new Log(seededRandom(seed));
  if (kind === 'busy') legitimate(log, start, 24);
  else attacks(log, start);
  return log.text();
}

/** Two days ago at midnight UTC: in the past, so no line is dated after the wall clock. */
export function defaultStart(now = Date.now()): number {
  const d = new Date(now - 2 * 86_400_000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, seed: { type: 'string', default: '1' }, start: { type: 'string' } } });
  const kind = positionals[0];
  if ((kind !== 'busy' && kind !== 'attacks') || values.out === undefined) {
    process.stderr.write('usage: node dist/test/helpers/mx-traffic.js busy|attacks --out FILE [--seed N] [--start ISO-TIME]\n');
    process.exit(2);
  }
  const start = values.start === undefined ? defaultStart() : Date.parse(values.start);
  if (Number.isNaN(start)) {
    process.stderr.write(`mx-traffic: --start: not a date: ${values.start}\n`);
    process.exit(2);
  }
  writeFileSync(values.out, generateMxTraffic(kind, Number(values.seed), start));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
