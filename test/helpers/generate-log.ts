// A seeded generator of realistic Postfix logs, for the benchmarks and the tests that need volume.
//
// About 88% of the lines are ordinary traffic (postscreen screening, smtpd sessions with their
// summaries, TLS, cleanup/qmgr/delivery lines, anvil and dnsblog statistics); the rest are attack
// signals from a few hundred addresses clustered in a handful of /24 and /64 networks, plus many
// one-off addresses. Both header formats appear, in alternating blocks, as when a host switches
// its rsyslog template: BSD syslog (`Nov  7 17:37:53 mail …`) and RFC 3339
// (`2026-11-07T17:37:53.123456+00:00 mail …`). Timestamps only ever increase.
//
// Address plan (all reserved for documentation or benchmarking, so nothing real is named):
//   attack clusters   192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, and /64s in 2001:db8:0000-0fff::/48
//   attack one-offs   198.19.0.0/16 and 2001:db8:c000-cfff::/36 (each IPv6 one in its own /64)
//   distinctFailing   198.19.0.0/16 (at most 16 per /24) then 2001:db8:4000-7fff::/34, one /64 each
//   normal traffic    198.18.0.0/16 and 2001:db8:ffff::/48
//
// Usage: node <build>/test/helpers/generate-log.js --lines 1000000 --seed 1 --out FILE
//        [--start 2026-11-25T00:00:00Z] [--distinct-failing N] [--window 5m]
import { closeSync, openSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { seededRandom } from './prng.js';

export interface GenerateOptions {
  lines: number;
  seed: number;
  out: string;
  /** Time of the first line. Default: two days ago, on the hour (so a yearless BSD date reads back right). */
  start?: Date;
  /**
   * Instead of the usual attack mix, write exactly this many failure lines, each from a distinct
   * address, spread evenly among ordinary traffic, with the whole log inside `windowMs`.
   */
  distinctFailing?: number;
  /** Span of the whole log when distinctFailing is set. Default: 5 minutes. */
  windowMs?: number;
}

export interface GenerateResult {
  lines: number;
  bytes: number;
  /** Lines that signal an attack (what postfix[mode=aggressive] should match). */
  failing: number;
  /** Distinct addresses among those lines. */
  failingAddresses: number;
}

/** Share of lines that are attack signals. */
const FAILING_SHARE = 0.12;
/** Mean gap between lines in the normal mode: 1M lines span about 5.5 hours. */
const MEAN_GAP_US = 20_000;
const HOST = 'mail';
const SERVER_V4 = '198.18.255.25';
const FLUSH_CHARS = 1 << 22;

const mulberry32 = seededRandom;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const hex = (n: number): string => n.toString(16);

/** Renders line headers; the part down to the second is cached, lines arrive many per second. */
class Headers {
  private second = -1;
  private bsd = '';
  private rfc = '';
  private offset = '';

  /** `t` is microseconds since the epoch. Local time, as syslog writes it. */
  render(t: number, rfc3339: boolean): string {
    const sec = Math.floor(t / 1e6);
    if (sec !== this.second) {
      this.second = sec;
      const d = new Date(sec * 1000);
      const hms = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
      const day = d.getDate();
      this.bsd = `${MONTHS[d.getMonth()]} ${day < 10 ? ` ${day}` : day} ${hms} ${HOST} `;
      this.rfc = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(day)}T${hms}.`;
      const off = -d.getTimezoneOffset();
      const a = Math.abs(off);
      this.offset = `${off < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}:${pad2(a % 60)} ${HOST} `;
    }
    if (!rfc3339) return this.bsd;
    return this.rfc + String(t % 1e6).padStart(6, '0') + this.offset;
  }
}

/** One log line before its header: the program tag and message, and whether it is an attack signal. */
interface Line {
  readonly tag: string;
  readonly msg: string;
  readonly failing?: boolean;
}

const SASL_MECHS = ['LOGIN', 'PLAIN', 'login', 'CRAM-MD5'];
const SASL_REASONS = ['UGFzc3dvcmQ6', 'authentication failure', '(reason unavailable)', 'generic failure'];
const SASL_USERS = ['admin', 'info@example.com', 'test', 'alice@example.com', 'postmaster', 'sales@example.com', '(unavailable)'];
const LOCAL_USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const DOMAINS = ['example.com', 'example.net', 'example.org'];
const BAD_HELOS = ['User', 'WIN-3KPQ1M0AB7C', 'ylmf-pc', '[192.0.2.1]', 'localhost', 'EHLO'];
const LOST_AFTER = ['AUTH', 'CONNECT', 'EHLO', 'AUTH', 'CONNECT', 'STARTTLS', 'UNKNOWN'];
const ERRORS_AFTER = ['RCPT', 'AUTH', 'UNKNOWN', 'EHLO'];
const NON_SMTP = ['GET / HTTP/1.1', 'POST /cgi-bin/ HTTP/1.0', 'Cookie: mstshash=Administr', '\\003\\000\\000/*\\340\\000\\000\\000\\000\\000', 'CONNECT example.org:443 HTTP/1.1'];
const PREGREETS = ['EHLO User\\r\\n', 'HELO 198.51.100.1\\r\\n', 'EHLO localhost\\r\\n', '\\026\\003\\001\\002\\000\\001\\000\\001\\374\\003\\003'];
const SMTPD_PROGS = ['postfix/smtpd', 'postfix/smtpd', 'postfix/smtpd', 'postfix/submission/smtpd', 'postfix/smtps/smtpd'];
const TLS_CIPHERS = [
  'TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256',
  'TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)',
];

class LogMaker {
  private readonly rnd: () => number;
  private readonly clusters: string[];
  private readonly normal: { addr: string; name: string }[];
  private oneOffs = 0;
  /** Cluster addresses seen in failure lines (indices into clusters). */
  readonly usedClusters = new Set<number>();
  oneOffsUsed = 0;

  constructor(seed: number) {
    this.rnd = mulberry32(seed);
    this.clusters = this.makeClusters();
    this.normal = this.makeNormal(4000);
  }

  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }

  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.rnd() * a.length)]!;
  }

  chance(p: number): boolean {
    return this.rnd() < p;
  }

  private makeClusters(): string[] {
    const out: string[] = [];
    for (const net of ['192.0.2', '198.51.100', '203.0.113']) {
      const hosts = new Set<number>();
      while (hosts.size < 60) hosts.add(1 + this.int(254));
      for (const h of hosts) out.push(`${net}.${h}`);
    }
    for (const net of ['2001:db8:1:0', '2001:db8:2:3', '2001:db8:bad:1', '2001:db8:bad:2', '2001:db8:f00:42']) {
      for (let i = 0; i < 30; i++) out.push(`${net}::${hex(1 + this.int(0xfffe))}`.replace(':0::', '::'));
    }
    return out;
  }

  private makeNormal(n: number): { addr: string; name: string }[] {
    const out: { addr: string; name: string }[] = [];
    for (let i = 0; i < n; i++) {
      const v6 = this.chance(0.2);
      const addr = v6 ? `2001:db8:ffff:${hex(i)}::${hex(1 + this.int(0xfffe))}` : `198.18.${Math.floor(i / 254)}.${1 + (i % 254)}`;
      const name = this.chance(0.15) ? 'unknown' : `${this.pick(['mx', 'out', 'smtp', 'mail-ot'])}${i}.${this.pick(DOMAINS)}`;
      out.push({ addr, name });
    }
    return out;
  }

  /** A sender from the normal pool, skewed so some servers are regulars. */
  normalPeer(): { addr: string; name: string } {
    const r = this.rnd();
    return this.normal[Math.floor(r * r * this.normal.length)]!;
  }

  /** An attacking address: mostly from the clusters (a few heavy hitters), else a fresh one-off. */
  attacker(): string {
    if (this.chance(0.7)) {
      const r = this.rnd();
      const i = Math.floor(r * r * this.clusters.length);
      this.usedClusters.add(i);
      return this.clusters[i]!;
    }
    this.oneOffsUsed++;
    const i = this.oneOffs++;
    if (i % 2 === 0) {
      // A bijection on 256 * 254 slots scatters the one-offs, and skips host parts .0 and .255.
      const y = ((i / 2) * 40503) % 65024;
      return `198.19.${Math.floor(y / 254)}.${1 + (y % 254)}`;
    }
    const x = Math.imul(i, 40503) & 0xffff;
    return `2001:db8:${hex(0xc000 | ((i >>> 16) & 0x0fff))}:${hex(x)}::${hex(1 + this.int(0xfffe))}`;
  }

  pid(base: number): string {
    return String(base + this.int(900));
  }

  port(): number {
    return 1024 + this.int(64000);
  }

  qid(): string {
    let s = '';
    for (let i = 0; i < 11; i++) s += '0123456789ABCDEF'[this.int(16)];
    return s;
  }

  mailbox(): string {
    return `${this.pick(LOCAL_USERS)}@${this.pick(DOMAINS)}`;
  }

  delays(): string {
    const a = (this.rnd() * 0.2).toFixed(2);
    const b = (this.rnd() * 0.05).toFixed(2);
    const d = (this.rnd() * 0.9).toFixed(2);
    return `delay=${(Number(a) + Number(b) + Number(d)).toFixed(2)}, delays=${a}/${b}/0/${d}`;
  }

  // --- ordinary traffic ------------------------------------------------------------------

  normalEpisode(out: Line[]): void {
    const r = this.rnd();
    if (r < 0.55) this.inbound(out);
    else if (r < 0.8) this.submission(out);
    else if (r < 0.9) this.anvil(out);
    else this.dnsblog(out);
  }

  private inbound(out: Line[]): void {
    const { addr, name } = this.normalPeer();
    const port = this.port();
    const ps = `postfix/postscreen[${this.pid(1000)}]`;
    out.push({ tag: ps, msg: `CONNECT from [${addr}]:${port} to [${SERVER_V4}]:25` });
    out.push({ tag: ps, msg: this.chance(0.8) ? `PASS OLD [${addr}]:${port}` : `PASS NEW [${addr}]:${port}` });
    const sd = `postfix/smtpd[${this.pid(2000)}]`;
    const who = `${name}[${addr}]`;
    out.push({ tag: sd, msg: `connect from ${who}` });
    const tls = this.chance(0.7);
    if (tls) out.push({ tag: sd, msg: `Anonymous TLS connection established from ${who}: ${this.pick(TLS_CIPHERS)}` });
    const q = this.qid();
    const rcpt = this.mailbox();
    out.push({ tag: sd, msg: `${q}: client=${who}` });
    out.push({ tag: `postfix/cleanup[${this.pid(3000)}]`, msg: `${q}: message-id=<${this.qid().toLowerCase()}@${this.pick(DOMAINS)}>` });
    const qmgr = `postfix/qmgr[${this.pid(100)}]`;
    out.push({ tag: qmgr, msg: `${q}: from=<${this.pick(['news', 'billing', 'noreply', 'friend'])}@${this.pick(DOMAINS)}>, size=${500 + this.int(90000)}, nrcpt=1 (queue active)` });
    out.push({ tag: sd, msg: `disconnect from ${who} ehlo=1${tls ? ' starttls=1' : ''} mail=1 rcpt=1 data=1 quit=1 commands=${tls ? 6 : 5}` });
    if (this.chance(0.5)) {
      out.push({ tag: `postfix/local[${this.pid(4000)}]`, msg: `${q}: to=<${rcpt}>, relay=local, ${this.delays()}, dsn=2.0.0, status=sent (delivered to mailbox)` });
    } else {
      out.push({ tag: `postfix/lmtp[${this.pid(4000)}]`, msg: `${q}: to=<${rcpt}>, relay=${HOST}.example.com[private/dovecot-lmtp], ${this.delays()}, dsn=2.0.0, status=sent (250 2.0.0 <${rcpt}> ${this.qid()} Saved)` });
    }
    out.push({ tag: qmgr, msg: `${q}: removed` });
  }

  private submission(out: Line[]): void {
    const { addr } = this.normalPeer();
    const sd = `postfix/submission/smtpd[${this.pid(5000)}]`;
    const who = `unknown[${addr}]`;
    const user = this.mailbox();
    out.push({ tag: sd, msg: `connect from ${who}` });
    out.push({ tag: sd, msg: `Anonymous TLS connection established from ${who}: ${this.pick(TLS_CIPHERS)}` });
    const q = this.qid();
    out.push({ tag: sd, msg: `${q}: client=${who}, sasl_method=PLAIN, sasl_username=${user}` });
    out.push({ tag: `postfix/cleanup[${this.pid(3000)}]`, msg: `${q}: message-id=<${this.qid().toLowerCase()}@example.com>` });
    const qmgr = `postfix/qmgr[${this.pid(100)}]`;
    out.push({ tag: qmgr, msg: `${q}: from=<${user}>, size=${800 + this.int(200000)}, nrcpt=1 (queue active)` });
    out.push({ tag: sd, msg: `disconnect from ${who} ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8` });
    const peer = this.normalPeer();
    const smtp = `postfix/smtp[${this.pid(6000)}]`;
    const relay = `${peer.name === 'unknown' ? 'mx.example.org' : peer.name}[${peer.addr}]:25`;
    out.push({ tag: smtp, msg: `Trusted TLS connection established to ${relay}: ${this.pick(TLS_CIPHERS)}` });
    if (this.chance(0.9)) {
      out.push({ tag: smtp, msg: `${q}: to=<${this.pick(LOCAL_USERS)}@example.org>, relay=${relay}, ${this.delays()}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${this.qid()})` });
      out.push({ tag: qmgr, msg: `${q}: removed` });
    } else {
      out.push({ tag: smtp, msg: `${q}: to=<${this.pick(LOCAL_USERS)}@example.org>, relay=none, ${this.delays()}, dsn=4.4.1, status=deferred (connect to ${relay}: Connection timed out)` });
    }
  }

  private anvil(out: Line[]): void {
    const { addr } = this.normalPeer();
    const tag = `postfix/anvil[${this.pid(7000)}]`;
    const at = `${MONTHS[10]} 27 17:${pad2(this.int(60))}:${pad2(this.int(60))}`;
    const r = this.rnd();
    if (r < 0.4) out.push({ tag, msg: `statistics: max connection rate ${1 + this.int(5)}/60s for (smtp:${addr}) at ${at}` });
    else if (r < 0.8) out.push({ tag, msg: `statistics: max connection count ${1 + this.int(3)} for (smtp:${addr}) at ${at}` });
    else out.push({ tag, msg: `statistics: max cache size ${1 + this.int(40)} at ${at}` });
  }

  private dnsblog(out: Line[]): void {
    const { addr } = this.normalPeer();
    out.push({ tag: `postfix/dnsblog[${this.pid(8000)}]`, msg: `addr ${addr} listed by domain list.dnswl.org as 127.0.${this.int(16)}.${this.int(4)}` });
  }

  // --- attacks ------------------------------------------------------------------------------

  attackEpisode(out: Line[], addr: string): void {
    const r = this.rnd();
    if (r < 0.3) this.sasl(out, addr);
    else if (r < 0.45) this.rcptReject(out, addr);
    else if (r < 0.6) this.lostConnection(out, addr);
    else if (r < 0.66) this.smtpdMisc(out, addr);
    else this.postscreen(out, addr);
  }

  private session(out: Line[], addr: string, body: (tag: string, who: string) => void, summary: string): void {
    const tag = `${this.pick(SMTPD_PROGS)}[${this.pid(2000)}]`;
    const who = `unknown[${addr}]`;
    out.push({ tag, msg: `connect from ${who}` });
    body(tag, who);
    out.push({ tag, msg: `disconnect from ${who} ${summary}` });
  }

  private sasl(out: Line[], addr: string): void {
    const n = 1 + this.int(3);
    this.session(out, addr, (tag, who) => {
      for (let i = 0; i < n; i++) {
        const suffix = this.chance(0.5) ? `, sasl_username=${this.pick(SASL_USERS)}` : '';
        out.push({ tag, msg: `warning: ${who}: SASL ${this.pick(SASL_MECHS)} authentication failed: ${this.pick(SASL_REASONS)}${suffix}`, failing: true });
      }
    }, `ehlo=1 auth=0/${n} quit=1 commands=2/${n + 2}`);
  }

  private rcptReject(out: Line[], addr: string): void {
    const n = 1 + this.int(4);
    const helo = this.pick(BAD_HELOS);
    this.session(out, addr, (tag, who) => {
      for (let i = 0; i < n; i++) {
        const r = this.rnd();
        let reply: string;
        let to: string;
        if (r < 0.5) {
          to = `${this.pick(['info', 'sales', 'support', 'x' + this.int(1000)])}@example.com`;
          reply = `550 5.1.1 <${to}>: Recipient address rejected: User unknown in ${this.pick(['local recipient', 'virtual mailbox'])} table`;
        } else {
          to = `victim${this.int(100)}@example.org`;
          reply = r < 0.75 ? `454 4.7.1 <${to}>: Relay access denied` : `554 5.7.1 <${to}>: Relay access denied`;
        }
        out.push({ tag, msg: `NOQUEUE: reject: RCPT from ${who}: ${reply}; from=<spam@example.net> to=<${to}> proto=ESMTP helo=<${helo}>`, failing: true });
      }
    }, `ehlo=1 mail=1 rcpt=0/${n} quit=1 commands=3/${n + 3}`);
  }

  private lostConnection(out: Line[], addr: string): void {
    const after = this.pick(LOST_AFTER);
    // Postfix 3.10 prefixes the line with NOQUEUE: (or a queue id); older versions do not.
    const prefix = this.chance(0.3) ? 'NOQUEUE: ' : '';
    this.session(out, addr, (tag, who) => {
      out.push({ tag, msg: `${prefix}lost connection after ${after} from ${who}`, failing: true });
    }, after === 'CONNECT' ? 'commands=0/0' : `ehlo=1 ${after === 'AUTH' ? 'auth=0/1 ' : ''}commands=1/2`);
  }

  private smtpdMisc(out: Line[], addr: string): void {
    const r = this.rnd();
    this.session(out, addr, (tag, who) => {
      if (r < 0.3) out.push({ tag, msg: `too many errors after ${this.pick(ERRORS_AFTER)} from ${who}`, failing: true });
      else if (r < 0.55) out.push({ tag, msg: `improper command pipelining after CONNECT from ${who}: \\026\\003\\001\\002\\000\\001\\000\\001\\374\\003\\003`, failing: true });
      else if (r < 0.85) out.push({ tag, msg: `warning: non-SMTP command from ${who}: ${this.pick(NON_SMTP)}`, failing: true });
      else out.push({ tag, msg: `warning: Connection rate limit exceeded: ${30 + this.int(40)} from ${who} for service smtp`, failing: true });
    }, 'commands=0/1');
  }

  private postscreen(out: Line[], addr: string): void {
    const tag = `postfix/postscreen[${this.pid(1000)}]`;
    const port = this.port();
    const at = `[${addr}]:${port}`;
    out.push({ tag, msg: `CONNECT from ${at} to [${SERVER_V4}]:25` });
    const r = this.rnd();
    if (r < 0.35) {
      out.push({ tag, msg: `PREGREET ${11 + this.int(30)} after ${(this.rnd()).toFixed(2)} from ${at}: ${this.pick(PREGREETS)}`, failing: true });
    } else if (r < 0.65) {
      out.push({ tag: `postfix/dnsblog[${this.pid(8000)}]`, msg: `addr ${addr} listed by domain zen.spamhaus.org as 127.0.0.${this.pick([2, 3, 4, 10, 11])}` });
      out.push({ tag, msg: `DNSBL rank ${1 + this.int(6)} for ${at}`, failing: true });
      out.push({ tag, msg: `NOQUEUE: reject: RCPT from ${at}: 550 5.7.1 Service unavailable; client [${addr}] blocked using zen.spamhaus.org; from=<spam@example.net>, to=<${this.mailbox()}>, proto=ESMTP, helo=<${this.pick(BAD_HELOS)}>`, failing: true });
    } else if (r < 0.8) {
      out.push({ tag, msg: `COMMAND PIPELINING from ${at} after EHLO: MAIL FROM:<spam@example.net>\\r\\n`, failing: true });
    } else {
      out.push({ tag, msg: `HANGUP after ${(this.rnd() * 5).toFixed(1)} from ${at} in tests before SMTP handshake`, failing: true });
    }
    out.push({ tag, msg: `DISCONNECT ${at}` });
  }

  /** One failure line for the i-th distinct address of the distinctFailing mode. */
  distinctFailure(out: Line[], i: number): void {
    let addr: string;
    if (i < 4096) {
      // At most 16 addresses per /24, below the usual subnet threshold, so windows stay per address.
      addr = `198.19.${i & 255}.${1 + (i >> 8) * 16}`;
    } else {
      const j = i - 4096;
      addr = `2001:db8:${hex(0x4000 | ((j >>> 16) & 0x3fff))}:${hex(j & 0xffff)}::${hex(1 + this.int(0xfffe))}`;
    }
    const who = `unknown[${addr}]`;
    const tag = `postfix/smtpd[${this.pid(2000)}]`;
    const r = this.rnd();
    if (r < 0.4) out.push({ tag, msg: `warning: ${who}: SASL LOGIN authentication failed: UGFzc3dvcmQ6`, failing: true });
    else if (r < 0.7) out.push({ tag, msg: `lost connection after AUTH from ${who}`, failing: true });
    else if (r < 0.9) out.push({ tag, msg: `NOQUEUE: reject: RCPT from ${who}: 454 4.7.1 <v@example.org>: Relay access denied; from=<s@example.net> to=<v@example.org> proto=ESMTP helo=<${this.pick(BAD_HELOS)}>`, failing: true });
    else out.push({ tag: `postfix/postscreen[${this.pid(1000)}]`, msg: `PREGREET 11 after 0.08 from [${addr}]:${this.port()}: EHLO User\\r\\n`, failing: true });
  }
}

function defaultStart(): Date {
  const d = new Date(Date.now() - 2 * 86_400_000);
  d.setMinutes(0, 0, 0);
  return d;
}

export async function generateLog(opts: GenerateOptions): Promise<GenerateResult> {
  const total = opts.lines;
  if (!Number.isInteger(total) || total < 0) throw new Error(`lines must be a non-negative integer, got ${total}`);
  const distinct = opts.distinctFailing ?? 0;
  if (!Number.isInteger(distinct) || distinct < 0 || distinct > total) {
    throw new Error(`distinctFailing must be an integer between 0 and lines (${total}), got ${distinct}`);
  }
  const maker = new LogMaker(opts.seed);
  const headers = new Headers();
  const startUs = (opts.start ?? defaultStart()).getTime() * 1000;
  const meanGapUs = distinct > 0 ? ((opts.windowMs ?? 300_000) * 1000) / Math.max(1, total) : MEAN_GAP_US;
  // Blocks of one header format, at least four blocks even in a short log.
  const block = Math.max(1, Math.min(10_000, Math.floor(total / 4)));

  const fd = openSync(opts.out, 'w');
  let t = startUs;
  let written = 0;
  let failing = 0;
  let bytes = 0;
  let chunk: string[] = [];
  let chunkChars = 0;
  const episode: Line[] = [];
  let nextDistinct = 0;

  const flush = (): void => {
    if (chunk.length === 0) return;
    const buf = Buffer.from(chunk.join(''), 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
    bytes += buf.length;
    chunk = [];
    chunkChars = 0;
  };

  try {
    while (written < total) {
      episode.length = 0;
      let room = total - written;
      if (distinct > 0) {
        // The k-th distinct failure is due at line k * total / distinct; ordinary episodes are
        // cut short so that no failure is ever late.
        const due = nextDistinct < distinct ? Math.floor((nextDistinct * total) / distinct) : total;
        if (written >= due) maker.distinctFailure(episode, nextDistinct++);
        else {
          maker.normalEpisode(episode);
          room = due - written;
        }
      } else if (failing + maker.int(4) < FAILING_SHARE * written + 2) {
        maker.attackEpisode(episode, maker.attacker());
      } else {
        maker.normalEpisode(episode);
      }
      for (let i = 0; i < episode.length && i < room; i++) {
        const line = episode[i]!;
        t += maker.int(2 * meanGapUs + 1);
        const rfc = Math.floor(written / block) % 2 === 1;
        const text = `${headers.render(t, rfc)}${line.tag}: ${line.msg}\n`;
        chunk.push(text);
        chunkChars += text.length;
        written++;
        if (line.failing) failing++;
        if (chunkChars >= FLUSH_CHARS) flush();
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  const failingAddresses = distinct > 0 ? nextDistinct : maker.usedClusters.size + maker.oneOffsUsed;
  return { lines: written, bytes, failing, failingAddresses };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

async function cli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      lines: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      start: { type: 'string' },
      'distinct-failing': { type: 'string' },
      window: { type: 'string', default: '5m' },
    },
    strict: true,
  });
  if (!values.out) throw new Error('--out FILE is required');
  const num = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a non-negative integer, got "${v}"`);
    return n;
  };
  const w = /^(\d+)(ms|s|m|h)$/.exec(values.window ?? '5m');
  if (!w) throw new Error(`--window: expected e.g. 90s, 5m, 1h, got "${values.window}"`);
  const start = values.start === undefined ? undefined : new Date(values.start);
  if (start && Number.isNaN(start.getTime())) throw new Error(`--start: not a date: "${values.start}"`);
  const t0 = performance.now();
  const r = await generateLog({
    lines: num('lines', values.lines ?? '1000000'),
    seed: num('seed', values.seed ?? '1'),
    out: values.out,
    ...(start ? { start } : {}),
    ...(values['distinct-failing'] === undefined ? {} : { distinctFailing: num('distinct-failing', values['distinct-failing']) }),
    windowMs: Number(w[1]) * DURATION_UNITS[w[2]!]!,
  });
  const ms = performance.now() - t0;
  process.stdout.write(`wrote ${r.lines} lines (${r.failing} failing, from ${r.failingAddresses} addresses), ${r.bytes} bytes to ${values.out} in ${ms.toFixed(0)} ms\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`generate-log: ${(err as Error).message}\n`);
    process.exitCode = 2;
  });
}
