// A seeded corpus of Postfix and Dovecot log lines, each labelled with its form and the address
// that really sent it, for the differential test of the native filters against fail2ban's
// (test/filters/differential.system.test.ts).
//
// Every failure form of /work/shared/notes/postfix-and-peers.md §4 and of fail2ban's
// postfix.conf / dovecot.conf appears, in the variants Postfix 2.x–3.10 and Dovecot 2.2–2.4
// write (codes, DSNs, queue ids, program tags, client ports, IPv6, host names holding a reversed
// address), next to normal mail flow and lines that carry a decoy address where the client
// writes: HELO, sender, recipient, SASL or IMAP user name, pregreet and non-SMTP payloads.
//
// Address plan (documentation ranges only): the real client is 203.0.113.0/24,
// 198.51.100.0/24, 192.0.2.1–199 or 2001:db8:1000-1fff::/36; decoys are 192.0.2.200–254 and
// 2001:db8:dead::/48, so a decoy is never the answer. The same seed gives the same lines.
import { seededRandom } from './prng.js';

export type FormClass =
  /** An attack signal: whoever counts it must take `addr`. */
  | 'failure'
  /** Ordinary traffic: no mode of ours may match it. */
  | 'normal'
  /** Carries an address but is counted by no mode on purpose (TLS, greylisting, DNS trouble). */
  | 'uncounted';

export interface CorpusLine {
  readonly text: string;
  readonly form: string;
  readonly filter: 'postfix' | 'dovecot';
  readonly cls: FormClass;
  /** The client's address as pban prints it (RFC 5952, IPv4-mapped made IPv4), or null. */
  readonly addr: string | null;
}

interface Made {
  readonly tag: string;
  readonly msg: string;
  /** Defaults to the generator's current client address. */
  readonly addr?: string | null;
}

interface Form {
  readonly id: string;
  readonly filter: 'postfix' | 'dovecot';
  readonly cls: FormClass;
  make(g: Gen): Made;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** What the generator draws from; `ip` is the client of the line being made. */
class Gen {
  ip = '';
  /** How the address is written in the line (IPv4-mapped for some Dovecot lines). */
  ipText = '';
  constructor(private readonly rnd: () => number) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)] as T;
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  hex(n: number): string {
    return n.toString(16);
  }
  nextClient(): void {
    const r = this.rnd();
    if (r < 0.7) {
      const net = this.pick(['203.0.113', '198.51.100', '192.0.2']);
      this.ip = `${net}.${1 + this.int(net === '192.0.2' ? 199 : 254)}`;
    } else {
      this.ip = `2001:db8:${this.hex(0x1000 + this.int(0x1000))}:${this.hex(1 + this.int(0xfffe))}::${this.hex(1 + this.int(0xfffe))}`;
    }
    this.ipText = this.ip;
  }
  decoy(): string {
    return this.chance(0.75) ? `192.0.2.${200 + this.int(55)}` : `2001:db8:dead::${this.hex(1 + this.int(0xfffe))}`;
  }
  /** Postfix's client name: unknown, a plain name, or a name that holds a reversed address. */
  name(): string {
    const r = this.rnd();
    if (r < 0.4) return 'unknown';
    if (r < 0.6 && !this.ip.includes(':')) return `${this.ip.split('.').reverse().join('.')}.dynamic.example.net`;
    if (r < 0.7) return `${this.decoy().replace(/[.:]/g, '-')}.pool.example.net`;
    return `${this.pick(['mx', 'mail', 'out', 'smtp'])}${this.int(100)}.${this.pick(['example.com', 'example.net', 'example.org'])}`;
  }
  /** `name[addr]`, with a port when smtpd_client_port_logging is on. */
  who(name = this.name()): string {
    return `${name}[${this.ip}]${this.chance(0.15) ? `:${this.port()}` : ''}`;
  }
  port(): number {
    return 1024 + this.int(64000);
  }
  pid(): number {
    return 100 + this.int(60000);
  }
  qid(): string {
    if (this.chance(0.3)) {
      // A long queue id (enable_long_queue_ids): 10+ characters of [0-9A-Za-z] but vowels.
      const alpha = '0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz';
      let s = String(1 + this.int(9));
      for (let i = 0; i < 11 + this.int(4); i++) s += alpha[this.int(alpha.length)];
      return s;
    }
    let s = '';
    for (let i = 0; i < 10; i++) s += '0123456789ABCDEF'[this.int(16)];
    return s;
  }
  noqueue(): string {
    return this.chance(0.8) ? 'NOQUEUE' : this.qid();
  }
  smtpd(): string {
    const prog = this.pick(['postfix/smtpd', 'postfix/smtpd', 'postfix/smtpd', 'postfix/submission/smtpd', 'postfix/smtps/smtpd', 'postfix-in/smtpd']);
    return `${prog}[${this.pid()}]`;
  }
  postscreen(): string {
    return `postfix/postscreen[${this.pid()}]`;
  }
  mailbox(): string {
    return `${this.pick(['alice', 'bob', 'info', 'sales', 'admin', 'x' + String(this.int(1000))])}@${this.pick(['example.com', 'example.net', 'example.org'])}`;
  }
  helo(): string {
    return this.pick(['User', 'WIN-3KPQ1M0AB7C', 'ylmf-pc', 'localhost', 'mx1.example.net', `[${this.decoy()}]`, `unknown[${this.decoy()}]`]);
  }
  /** `; from=<…> to=<…> proto=… helo=<…>`, the tail smtpd appends to a reject. */
  envelope(to = this.mailbox()): string {
    const from = this.pick(['spam@example.net', '', `x@[${this.decoy()}]`, `unknown[${this.decoy()}]@example.net`]);
    return `; from=<${from}> to=<${to}> proto=${this.pick(['ESMTP', 'SMTP'])} helo=<${this.helo()}>`;
  }
  /** Dovecot's `rip=` address: IPv4-mapped now and then, as dual-stack listeners log it. */
  rip(): string {
    return !this.ip.includes(':') && this.chance(0.1) ? `::ffff:${this.ip}` : this.ip;
  }
  lip(): string {
    return this.ip.includes(':') ? '2001:db8:ffff::25' : '198.18.255.25';
  }
  dovecotUser(): string {
    return this.pick(['alice', 'bob@example.com', 'admin', 'test', 'info@example.org', 'root', 'a.b-c_d']);
  }
  session(): string {
    let s = '';
    for (let i = 0; i < 16; i++) s += 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[this.int(64)];
    return s;
  }
  /** The Dovecot program tag and the process prefix of a login process. */
  loginPrefix(): string {
    const svc = this.pick(['imap', 'pop3', 'submission', 'managesieve']);
    const tag = this.pick([`dovecot: ${svc}-login: `, `dovecot[${this.pid()}]: ${svc}-login: `, `${svc}-login: `, `dovecot: ${svc}-login: Info: `]);
    return tag;
  }
  authPrefix(): string {
    return this.pick([
      'dovecot: auth: ',
      `dovecot: auth-worker(${this.pid()}): `,
      'auth: ',
      `auth-worker(${this.pid()}): `,
      'dovecot: auth: Info: ',
      `dovecot: auth-worker(${this.pid()}): Info: conn unix:auth-worker (pid=${this.pid()},uid=97): auth-worker<${1 + this.int(9)}>: `,
    ]);
  }
}

const SASL_REASONS = ['UGFzc3dvcmQ6', 'authentication failure', '(reason unavailable)', 'generic failure', 'VXNlcm5hbWU6'];
const FAIL2BAN_MECHS = ['LOGIN', 'PLAIN', 'CRAM-MD5', 'DIGEST-MD5', 'login', 'plain'];
const OTHER_MECHS = ['SCRAM-SHA-256', 'XOAUTH2', 'NTLM', 'GSSAPI', 'OAUTHBEARER'];
const LATE_COMMANDS = ['MAIL', 'RCPT', 'RSET', 'NOOP', 'VRFY', 'ETRN', 'QUIT', 'XCLIENT'];
const EARLY_COMMANDS = ['AUTH', 'CONNECT', 'EHLO', 'HELO', 'STARTTLS', 'UNKNOWN'];
const LOGIN_VERBS = ['Aborted login', 'Disconnected', 'Remote closed connection', 'Client has quit the connection'];
const NEW_LOGIN_VERBS = ['Login aborted'];
const PASSDB = ['pam', 'passwd-file', 'sql', 'ldap', 'shadow', 'passwd', 'checkpassword', 'bsdauth', 'lua', 'dict', 'static', 'vpopmail', 'imap'];

function rejectLine(g: Gen, cmd: string, reply: string, to?: string): Made {
  return { tag: g.smtpd(), msg: `${g.noqueue()}: reject: ${cmd} from ${g.who()}: ${reply}${g.envelope(to)}` };
}

function saslLine(g: Gen, mech: string, rest: string): Made {
  const user = g.chance(0.4) ? `, sasl_username=${g.pick(['admin', 'info@example.com', '(unavailable)', `x]: y [${g.decoy()}]`])}` : '';
  return { tag: g.smtpd(), msg: `warning: ${g.who()}: SASL ${mech} authentication ${rest}${user}` };
}

function loginLine(g: Gen, verbs: readonly string[], why: string): Made {
  const reason = g.pick(['', '', ': Connection closed', ': Inactivity', ': Disconnected in IDLE', ': Connection closed: read(size=1024) failed: Connection reset by peer', ': Logged out']);
  const tag = g.chance(0.2) ? g.pick([' (auth_failed)', ' (auth_aborted)', ' (disconnected)']) : '';
  const user = g.chance(0.8) ? `user=<${g.dovecotUser()}>, ` : '';
  const method = user && g.chance(0.8) ? `method=${g.pick(['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-256'])}, ` : '';
  const tail = g.pick(['', `, lip=${g.lip()}`, `, lip=${g.lip()}, session=<${g.session()}>`, `, lip=${g.lip()}, TLS, session=<${g.session()}>`, `, lip=${g.lip()}, TLS: Connection closed, session=<${g.session()}>`]);
  return { tag: g.loginPrefix(), msg: `${g.pick(verbs)}${reason} (${why})${tag}: ${user}${method}rip=${g.rip()}${tail}` };
}

function passdbLine(g: Gen, drivers: readonly string[], result: string, user = g.dovecotUser()): Made {
  const session = g.pick(['', `,<${g.session()}>`]);
  return { tag: g.authPrefix(), msg: `${g.pick(drivers)}(${user},${g.rip()}${session}): ${result}` };
}

export const FORMS: readonly Form[] = [
  // ---- smtpd rejects -----------------------------------------------------------------------
  { id: 'relay-454', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, 'RCPT', `454 4.7.1 <${g.mailbox()}>: Relay access denied`) },
  { id: 'relay-554', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, 'RCPT', `554 5.7.1 <${g.mailbox()}>: ${g.pick(['', 'Recipient address rejected: '])}Relay access denied`) },
  // relay_domains_reject_code = 550 (a common setting) changes the code, not the text.
  { id: 'relay-550', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, 'RCPT', `550 5.7.1 <${g.mailbox()}>: Relay access denied`) },
  { id: 'user-unknown', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, g.pick(['RCPT', 'RCPT', 'VRFY']), `${g.pick(['550 5.1.1', '450 4.1.1'])} <${g.mailbox()}>: Recipient address rejected: User unknown in ${g.pick(['local recipient', 'virtual mailbox', 'virtual alias', 'relay recipient'])} table`) },
  { id: 'undeliverable', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, g.pick(['RCPT', 'MAIL']), `${g.pick(['550 5.1.1', '450 4.1.1', '450 4.1.7'])} <${g.mailbox()}>: ${g.pick(['Recipient', 'Sender'])} address rejected: ${g.pick(['undeliverable', 'Undeliverable'])} address: ${g.pick(['unknown user: "x"', 'host mx.example.net[198.18.0.9] said: 550 5.1.1 no such user (in reply to RCPT TO command)', 'verification failed'])}`) },
  { id: 'helo-fqdn', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, g.pick(['RCPT', 'EHLO', 'HELO', 'MAIL']), `504 5.5.2 <${g.helo()}>: Helo command rejected: need fully-qualified hostname`) },
  { id: 'helo-host-not-found', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, 'RCPT', `${g.pick(['450 4.7.1', '550 5.7.1'])} <${g.helo()}>: Helo command rejected: Host not found`) },
  // reject_invalid_helo_hostname answers 501, outside fail2ban's [45][50][04].
  { id: 'helo-invalid', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, 'RCPT', `501 5.5.2 <${g.helo()}>: Helo command rejected: Invalid name`) },
  { id: 'client-hostname', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, g.pick(['RCPT', 'MAIL']), `${g.pick(['450 4.7.1', '450 4.7.25', '550 5.7.25'])} Client host rejected: cannot find your ${g.pick(['', 'reverse '])}hostname, [${g.ip}]`) },
  { id: 'client-access', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, g.pick(['RCPT', 'ETRN', 'MAIL']), `554 5.7.1 <${g.name()}[${g.ip}]>: Client host rejected: Access denied`) },
  // Rejects at CONNECT: a 7-letter command, which fail2ban's [A-Z]{4} does not read.
  { id: 'client-connect', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, 'CONNECT', `554 5.7.1 <${g.name()}[${g.ip}]>: Client host rejected: Access denied`) },
  { id: 'sender-domain', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, g.pick(['RCPT', 'MAIL']), `${g.pick(['450 4.1.8', '550 5.1.8'])} <spam@${g.pick(['nonexistent.example', 'example.invalid'])}>: Sender address rejected: Domain not found`) },
  { id: 'sender-fqdn', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, 'RCPT', `504 5.5.2 <spam>: Sender address rejected: need fully-qualified address`) },
  // reject_unlisted_sender: a sender in our own domains that does not exist (forged).
  { id: 'sender-unknown', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, g.pick(['RCPT', 'MAIL']), `${g.pick(['550 5.1.0', '450 4.1.0'])} <${g.mailbox()}>: Sender address rejected: User unknown in ${g.pick(['local recipient', 'virtual mailbox'])} table`) },
  // reject_unknown_recipient_domain.
  { id: 'recipient-domain', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, 'RCPT', `${g.pick(['450 4.1.2', '550 5.1.2'])} <x@${g.pick(['nonexistent.example', 'example.invalid'])}>: Recipient address rejected: Domain not found`) },
  { id: 'data-reject', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, g.pick(['DATA', 'BDAT']), `${g.pick(['550 5.5.3', '554 5.5.0'])} <DATA>: Data command rejected: Multi-recipient bounce`) },
  // reject_unauth_pipelining at DATA answers 503, outside fail2ban's [45][50][04].
  { id: 'data-pipelining', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, 'DATA', '503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining') },
  { id: 'milter-reject', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `${g.qid()}: milter-reject: END-OF-MESSAGE from ${g.who()}: 5.7.1 Command rejected${g.envelope()}` }) },
  { id: 'rbl-client', filter: 'postfix', cls: 'failure', make: (g) => rejectLine(g, 'RCPT', `${g.pick(['554 5.7.1', '554 5.7.1', '550 5.7.1', '450 4.7.1'])} Service unavailable; Client host [${g.ip}] blocked using ${g.pick(['zen.spamhaus.org', 'bl.spamcop.net'])}${g.pick(['', `; https://www.spamhaus.org/query/ip/${g.ip}`, '; Blocked - see https://www.spamcop.net/bl.shtml'])}`) },
  // reject_rhsbl_client/_reverse_client/_sender/_helo/_recipient: a domain, not the address, is listed.
  { id: 'rbl-domain', filter: 'postfix', cls: 'failure', make: (g) => { const d = g.pick(['spam.example.net', 'x.example.org']); return rejectLine(g, 'RCPT', `554 5.7.1 Service unavailable; ${g.pick([`Client host [${d}]`, `Unverified Client host [${d}]`, `Sender address [spam@${d}]`, `Helo command [${d}]`, `Recipient address [x@${d}]`])} blocked using dbl.spamhaus.org${g.pick(['', `; https://www.spamhaus.org/query/domain/${d}`])}`); } },
  { id: 'postscreen-rbl', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.postscreen(), msg: `NOQUEUE: reject: RCPT from [${g.ip}]:${g.port()}: 550 5.7.1 Service unavailable; client [${g.ip}] blocked using zen.spamhaus.org; from=<${g.mailbox()}>, to=<${g.mailbox()}>, proto=ESMTP, helo=<${g.helo()}>` }) },
  // ---- smtpd session errors ------------------------------------------------------------------
  { id: 'pipelining', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `improper command pipelining after ${g.pick(['CONNECT', 'EHLO', 'HELO', 'RCPT', 'DATA'])} from ${g.who()}: ${g.pick(['\\026\\003\\001\\002\\000\\001\\000\\001\\374\\003\\003', 'QUIT\\r\\n', `MAIL FROM:<x@[${g.decoy()}]>\\r\\n`])}` }) },
  { id: 'too-many-errors', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `too many errors after ${g.pick(['RCPT', 'AUTH', 'UNKNOWN', 'EHLO', 'MAIL', 'VRFY'])} from ${g.who()}` }) },
  // Postfix 3.10 puts the queue id (or NOQUEUE) before session-end lines.
  { id: 'too-many-errors-3.10', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `${g.noqueue()}: too many errors after ${g.pick(['RCPT', 'AUTH', 'UNKNOWN'])} from ${g.who()}` }) },
  { id: 'too-many-errors-data', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `too many errors after DATA (${g.int(5000)} bytes) from ${g.who()}` }) },
  { id: 'lost-early', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `lost connection after ${g.pick(EARLY_COMMANDS)} from ${g.who()}` }) },
  { id: 'lost-late', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `lost connection after ${g.pick(LATE_COMMANDS)} from ${g.who()}` }) },
  { id: 'lost-3.10', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `${g.noqueue()}: lost connection after ${g.pick([...EARLY_COMMANDS, ...LATE_COMMANDS])} from ${g.who()}` }) },
  // After DATA a lost connection is a flaky legitimate client as often as not: no mode counts it.
  { id: 'lost-data', filter: 'postfix', cls: 'uncounted', make: (g) => ({ tag: g.smtpd(), msg: `${g.pick(['', 'NOQUEUE: '])}lost connection after ${g.pick(['DATA', 'BDAT'])} (${g.int(90000)} bytes) from ${g.who()}` }) },
  { id: 'lost-end-of-message', filter: 'postfix', cls: 'uncounted', make: (g) => ({ tag: g.smtpd(), msg: `lost connection after END-OF-MESSAGE from ${g.who()}` }) },
  { id: 'timeout', filter: 'postfix', cls: 'uncounted', make: (g) => ({ tag: g.smtpd(), msg: `timeout after ${g.pick(['CONNECT', 'EHLO', 'DATA (0 bytes)', 'RCPT'])} from ${g.who()}` }) },
  { id: 'auth-summary', filter: 'postfix', cls: 'failure', make: (g) => { const n = 1 + g.int(12); return { tag: g.smtpd(), msg: `disconnect from ${g.who()} ${g.pick(['ehlo=1 ', 'ehlo=2 starttls=1 ', 'helo=1 ', ''])}auth=0/${n} ${g.pick(['quit=1 ', 'rset=1 ', ''])}commands=${g.int(3)}/${n + 2}` }; } },
  // A failed EHLO before AUTH: `ehlo=0/1`, which fail2ban's `\S+=\d+` does not read.
  { id: 'auth-summary-ehlo-failed', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `disconnect from ${g.who()} ehlo=0/1 auth=0/1 commands=0/2` }) },
  { id: 'non-smtp', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `warning: non-SMTP command from ${g.who()}: ${g.pick(['GET / HTTP/1.1', 'POST /cgi-bin/ HTTP/1.0', 'Cookie: mstshash=Administr', `CONNECT [${g.decoy()}]:25 HTTP/1.1`, `GET /?from unknown[${g.decoy()}]`])}` }) },
  { id: 'rate-limit', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `warning: ${g.pick(['Connection rate', 'Connection concurrency', 'Message delivery request rate', 'Recipient address rate', 'New TLS session rate', 'AUTH command rate'])} limit exceeded: ${30 + g.int(100)} from ${g.who()} for service ${g.pick(['smtp', 'submission', 'smtps'])}` }) },
  // ---- SASL ------------------------------------------------------------------------------
  { id: 'sasl', filter: 'postfix', cls: 'failure', make: (g) => saslLine(g, g.pick(FAIL2BAN_MECHS), `failed: ${g.pick(SASL_REASONS)}`) },
  { id: 'sasl-other-mech', filter: 'postfix', cls: 'failure', make: (g) => saslLine(g, g.pick(OTHER_MECHS), `failed: ${g.pick(SASL_REASONS)}`) },
  { id: 'sasl-invalid-mech', filter: 'postfix', cls: 'failure', make: (g) => saslLine(g, g.pick(FAIL2BAN_MECHS), 'failed: Invalid authentication mechanism') },
  { id: 'sasl-aborted', filter: 'postfix', cls: 'failure', make: (g) => saslLine(g, g.pick(FAIL2BAN_MECHS), 'aborted') },
  // Our own auth server failing (fail2ban PR #944): never the client's fault.
  { id: 'sasl-server-lost', filter: 'postfix', cls: 'uncounted', make: (g) => saslLine(g, g.pick(FAIL2BAN_MECHS), 'failed: Connection lost to authentication server') },
  // ---- postscreen ------------------------------------------------------------------------
  { id: 'postscreen-pregreet', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.postscreen(), msg: `PREGREET ${11 + g.int(40)} after ${(g.int(500) / 100).toFixed(2)} from [${g.ip}]:${g.port()}: ${g.pick(['EHLO User\\r\\n', `EHLO [${g.decoy()}]\\r\\n`, `HELO from [${g.decoy()}]:25\\r\\n`, '\\026\\003\\001\\002\\000'])}` }) },
  { id: 'postscreen-hangup', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.postscreen(), msg: `HANGUP after ${(g.int(900) / 100).toFixed(1)} from [${g.ip}]:${g.port()} in tests ${g.pick(['before', 'after'])} SMTP handshake` }) },
  { id: 'postscreen-limit', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.postscreen(), msg: `COMMAND ${g.pick(['TIME', 'COUNT', 'LENGTH'])} LIMIT from [${g.ip}]:${g.port()} after ${g.pick(['EHLO', 'RCPT', 'DATA'])}` }) },
  { id: 'postscreen-protocol', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.postscreen(), msg: `${g.pick(['COMMAND PIPELINING', 'NON-SMTP COMMAND', 'BARE NEWLINE'])} from [${g.ip}]:${g.port()} after ${g.pick(['EHLO', 'CONNECT', 'RCPT'])}${g.pick(['', `: GET / HTTP/1.1`, `: MAIL FROM:<x@[${g.decoy()}]>`])}` }) },
  { id: 'postscreen-dnsbl', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.postscreen(), msg: `DNSBL rank ${1 + g.int(9)} for [${g.ip}]:${g.port()}` }) },
  // ---- TLS, greylisting and DNS trouble: legitimate servers log these all day --------------
  { id: 'tls-accept', filter: 'postfix', cls: 'uncounted', make: (g) => ({ tag: g.smtpd(), msg: `SSL_accept error from ${g.who()}: ${g.pick(['-1', 'lost connection', 'Connection reset by peer', 'Connection timed out'])}` }) },
  { id: 'greylisted', filter: 'postfix', cls: 'uncounted', make: (g) => rejectLine(g, 'RCPT', `450 4.2.0 <${g.mailbox()}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.com.html`) },
  { id: 'hostname-unresolved', filter: 'postfix', cls: 'uncounted', make: (g) => ({ tag: g.smtpd(), msg: `warning: hostname ${g.name()} does not resolve to address ${g.ip}${g.pick(['', ': Name or service not known'])}` }) },
  { id: 'unverified-recipient', filter: 'postfix', cls: 'uncounted', make: (g) => rejectLine(g, 'RCPT', `450 4.1.1 <${g.mailbox()}>: Recipient address rejected: unverified address: Address verification in progress`) },
  { id: 'postscreen-overload', filter: 'postfix', cls: 'uncounted', make: (g) => ({ tag: g.postscreen(), msg: `NOQUEUE: reject: CONNECT from [${g.ip}]:${g.port()}: ${g.pick(['too many connections', 'all screening ports busy', 'all server ports busy'])}` }) },
  // ---- normal mail flow ------------------------------------------------------------------
  { id: 'postfix-normal', filter: 'postfix', cls: 'normal', make: (g) => postfixNormal(g) },
  // ---- Dovecot ---------------------------------------------------------------------------
  { id: 'dovecot-auth-failed', filter: 'dovecot', cls: 'failure', make: (g) => loginLine(g, LOGIN_VERBS, `auth failed, ${1 + g.int(6)} attempts${g.pick(['', ` in ${g.int(30)} secs`])}`) },
  { id: 'dovecot-auth-failed-2.4', filter: 'dovecot', cls: 'failure', make: (g) => loginLine(g, NEW_LOGIN_VERBS, `auth failed, ${1 + g.int(6)} attempts in ${g.int(30)} secs`) },
  { id: 'dovecot-plaintext', filter: 'dovecot', cls: 'failure', make: (g) => loginLine(g, LOGIN_VERBS, `tried to use ${g.pick(['disabled', 'disallowed'])} plaintext auth`) },
  { id: 'dovecot-proxy', filter: 'dovecot', cls: 'failure', make: (g) => loginLine(g, LOGIN_VERBS, 'proxy dest auth failed') },
  { id: 'dovecot-no-auth', filter: 'dovecot', cls: 'failure', make: (g) => loginLine(g, LOGIN_VERBS, g.pick([`no auth attempts${g.pick(['', ` in ${g.int(60)} secs`])}`, `disconnected before auth was ready, waited ${g.int(60)} secs`, `client didn't finish SASL auth, waited ${g.int(60)} secs`])) },
  { id: 'dovecot-passdb', filter: 'dovecot', cls: 'failure', make: (g) => passdbLine(g, PASSDB.slice(0, 11), g.pick(['unknown user', 'Password mismatch', 'invalid credentials', 'unknown user (SHA1 of given password: 0f2e1a)', 'Password mismatch (SHA1 of given password: 1b2c3d)'])) },
  // Drivers outside our first list, capitalised results (Dovecot 2.2) and auth_verbose_passwords=plain.
  { id: 'dovecot-passdb-more', filter: 'dovecot', cls: 'failure', make: (g) => passdbLine(g, PASSDB, g.pick(['Unknown user', 'Invalid credentials', 'Password mismatch (given password: hunter2)', 'unknown user (given password: a b c)', 'invalid credentials (given password: x)'])) },
  // A password with parentheses: ours leave it (filters/dovecot.toml says why).
  { id: 'dovecot-passdb-paren-password', filter: 'dovecot', cls: 'failure', make: (g) => passdbLine(g, ['sql', 'passwd-file'], g.pick(['Password mismatch (given password: pa(ss)', 'unknown user (given password: :-))'])) },
  { id: 'dovecot-pam', filter: 'dovecot', cls: 'failure', make: (g) => passdbLine(g, ['pam'], `pam_authenticate() failed: ${g.pick(['Authentication failure (Password mismatch?)', 'Authentication failure (password mismatch?)', 'User not known to the underlying authentication module: 1 Time(s)', 'Permission denied'])}`) },
  { id: 'dovecot-pam-unix', filter: 'dovecot', cls: 'failure', make: (g) => ({ tag: g.pick(['auth: ', 'dovecot: auth-worker(1234): ', 'dovecot-auth: ', 'dovecot[77]: auth-worker(9): ']), msg: `pam_unix(dovecot:auth): authentication failure; logname=${g.pick(['', 'root'])} uid=0 euid=0 tty=dovecot ruser=${g.pick(['', 'alice', 'bob@example.com'])} rhost=${g.ip}${g.pick(['', '  user=alice', ' user=bob'])}` }) },
  // Old pam_unix writes no service name.
  { id: 'dovecot-pam-unix-bare', filter: 'dovecot', cls: 'failure', make: (g) => ({ tag: 'dovecot-auth: ', msg: `pam_unix: authentication failure; logname= uid=0 euid=0 tty=dovecot ruser= rhost=${g.ip}  user=${g.dovecotUser()}` }) },
  { id: 'dovecot-normal', filter: 'dovecot', cls: 'normal', make: (g) => dovecotNormal(g) },
  // ---- Injection: decoy addresses where the client writes --------------------------------
  { id: 'inject-dovecot-user-rip', filter: 'dovecot', cls: 'failure', make: (g) => ({ tag: g.loginPrefix(), msg: `Disconnected (auth failed, 1 attempts in 2 secs): user=<x>, method=PLAIN, rip=${g.decoy()}, lip=198.18.255.25>, method=PLAIN, rip=${g.ip}, lip=${g.lip()}, TLS, session=<${g.session()}>` }) },
  { id: 'inject-dovecot-user-bare', filter: 'dovecot', cls: 'failure', make: (g) => ({ tag: g.loginPrefix(), msg: `Disconnected (auth failed, 1 attempts in 2 secs): user=<rip=${g.decoy()}>, method=PLAIN, rip=${g.ip}, lip=${g.lip()}` }) },
  { id: 'inject-dovecot-passdb-user', filter: 'dovecot', cls: 'failure', make: (g) => passdbLine(g, ['sql', 'passwd-file', 'ldap'], g.pick(['unknown user', 'Password mismatch']), g.pick([`x,${g.decoy()},<a>): unknown user`, `x,${g.decoy()}`, `${g.decoy()}`])) },
  // User name and password both written by the client, around the real address.
  { id: 'inject-dovecot-passdb-password', filter: 'dovecot', cls: 'failure', make: (g) => passdbLine(g, ['sql', 'passwd-file'], `Password mismatch (given password: ${g.pick(['b', 'b)', 'b) (Password mismatch?)'])})`, `x,${g.decoy()}): unknown user (given password: a`) },
  { id: 'inject-postfix-sasl-user', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: g.smtpd(), msg: `warning: ${g.who('unknown')}: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=warning: unknown[${g.decoy()}]: SASL LOGIN authentication failed: x` }) },
  { id: 'inject-postfix-syslog-name', filter: 'postfix', cls: 'failure', make: (g) => ({ tag: `postfix-${g.decoy().includes(':') ? '10.20.30.40' : g.decoy()}/smtpd[${g.pid()}]`, msg: `NOQUEUE: reject: RCPT from ${g.who()}: 554 5.7.1 <${g.mailbox()}>: Relay access denied${g.envelope()}` }) },
];

function postfixNormal(g: Gen): Made {
  const w = g.who(`mx${g.int(99)}.example.com`);
  const q = g.qid();
  const r = g.int(16);
  const none = { addr: null };
  switch (r) {
    case 0: return { tag: g.smtpd(), msg: `connect from ${w}`, ...none };
    case 1: return { tag: g.smtpd(), msg: `disconnect from ${w} ehlo=1 ${g.pick(['starttls=1 ', ''])}mail=1 rcpt=1 data=1 quit=1 commands=5` , ...none };
    case 2: return { tag: g.smtpd(), msg: `disconnect from ${w} ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8`, ...none };
    case 3: return { tag: g.smtpd(), msg: `disconnect from ${w} ehlo=1 auth=1/1 mail=1 rcpt=0/1 quit=1 commands=4/5`, ...none };
    case 4: return { tag: g.smtpd(), msg: `${q}: client=${w}${g.pick(['', ', sasl_method=PLAIN, sasl_username=alice@example.com'])}`, ...none };
    case 5: return { tag: g.smtpd(), msg: `Anonymous TLS connection established from ${w}: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)`, ...none };
    case 6: return { tag: g.postscreen(), msg: `CONNECT from [${g.ip}]:${g.port()} to [198.18.255.25]:25`, ...none };
    case 7: return { tag: g.postscreen(), msg: `${g.pick(['PASS OLD', 'PASS NEW', 'DISCONNECT', 'ALLOWLISTED', 'WHITELISTED'])} [${g.ip}]:${g.port()}`, ...none };
    case 8: return { tag: `postfix/cleanup[${g.pid()}]`, msg: `${q}: message-id=<${g.session()}@example.com>`, ...none };
    case 9: return { tag: `postfix/qmgr[${g.pid()}]`, msg: `${q}: from=<${g.mailbox()}>, size=${g.int(90000)}, nrcpt=1 (queue active)`, ...none };
    case 10: return { tag: `postfix/smtp[${g.pid()}]`, msg: `${q}: to=<${g.mailbox()}>, relay=mx.example.org[${g.ip}]:25, delay=0.4, delays=0.1/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${g.qid()})`, ...none };
    case 11: return { tag: `postfix/anvil[${g.pid()}]`, msg: `statistics: max connection rate ${1 + g.int(5)}/60s for (smtp:${g.ip}) at Nov 25 17:00:01`, ...none };
    case 12: return { tag: `postfix/dnsblog[${g.pid()}]`, msg: `addr ${g.ip} listed by domain list.dnswl.org as 127.0.10.${g.int(4)}`, ...none };
    case 13: return { tag: `postfix/lmtp[${g.pid()}]`, msg: `${q}: to=<${g.mailbox()}>, relay=mail.example.com[private/dovecot-lmtp], delay=0.1, dsn=2.0.0, status=sent (250 2.0.0 Saved)`, ...none };
    case 14: return { tag: `postfix/postscreen[${g.pid()}]`, msg: `ALLOWLIST VETO [${g.ip}]:${g.port()}`, ...none };
    default: return { tag: `postfix/smtpd[${g.pid()}]`, msg: `Trusted TLS connection established from ${w}: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)`, ...none };
  }
}

function dovecotNormal(g: Gen): Made {
  const u = g.dovecotUser();
  const none = { addr: null };
  switch (g.int(7)) {
    case 0: return { tag: g.loginPrefix(), msg: `Login: user=<${u}>, method=PLAIN, rip=${g.rip()}, lip=${g.lip()}, mpid=${g.pid()}, TLS, session=<${g.session()}>`, ...none };
    case 1: return { tag: `dovecot: imap(${u})<${g.pid()}><${g.session()}>: `, msg: `Logged out in=${g.int(900)} out=${g.int(9000)} deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0`, ...none };
    case 2: return { tag: `dovecot: imap(${u})<${g.pid()}><${g.session()}>: `, msg: `Disconnected: ${g.pick(['Inactivity', 'Connection closed', 'Logged out'])} in=${g.int(900)} out=${g.int(9000)}`, ...none };
    case 3: return { tag: `dovecot: lmtp(${g.pid()}): `, msg: `Connect from local`, ...none };
    case 4: return { tag: `dovecot: lmtp(${u})<${g.pid()}><${g.session()}>: `, msg: `msgid=<${g.session()}@example.com>: saved mail to INBOX`, ...none };
    case 5: return { tag: 'dovecot: master: ', msg: 'Dovecot v2.3.21 (47349e2482) starting up for imap, pop3, lmtp, sieve', ...none };
    default: return { tag: g.authPrefix(), msg: `${g.pick(['passwd-file', 'sql'])}(${u},${g.rip()},<${g.session()}>): Password verified`, ...none };
  }
}

/**
 * `lines` lines drawn from FORMS (every form at least once per round of FORMS.length lines), with
 * BSD syslog headers (day space-padded, some zero-padded as maillog_file writes them) and now and
 * then RFC 3339 ones. Times start at `start` and rise by about a second a line.
 */
export function generateMailCorpus(lines: number, seed: number, start = Date.UTC(2026, 10, 25, 0, 0, 0)): CorpusLine[] {
  const g = new Gen(seededRandom(seed));
  const out: CorpusLine[] = [];
  let t = start;
  for (let i = 0; i < lines; i++) {
    // Every form once first, so even a small corpus holds them all; then a seeded draw.
    const f = FORMS[i < FORMS.length ? i : g.int(FORMS.length)] as Form;
    g.nextClient();
    const made = f.make(g);
    t += g.int(2000);
    const d = new Date(t);
    const hms = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
    const day = d.getUTCDate();
    const r = g.int(10);
    const head = r < 7
      ? `${MONTHS[d.getUTCMonth()]} ${day < 10 ? ` ${day}` : day} ${hms} mail `
      : r < 8
        ? `${MONTHS[d.getUTCMonth()]} ${pad2(day)} ${hms} mail `
        : `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(day)}T${hms}.${String(t % 1000).padStart(3, '0')}${String(g.int(1000)).padStart(3, '0')}+00:00 mail `;
    const addr = made.addr === undefined ? (f.cls === 'normal' ? null : g.ip) : made.addr;
    // Dovecot's own log file (log_path) writes no host: `Nov 25 10:11:12 imap-login: …`.
    const host = f.filter === 'dovecot' && /^\w+-login: /.test(made.tag) && g.chance(0.5) ? head.replace(/mail $/, '') : head;
    // Postfix tags are `prog[pid]`; the Dovecot ones above carry their own `: ` separators.
    const tag = f.filter === 'postfix' ? `${made.tag}: ` : made.tag;
    out.push({ text: `${host}${tag}${made.msg}`, form: f.id, filter: f.filter, cls: f.cls, addr });
  }
  return out;
}
