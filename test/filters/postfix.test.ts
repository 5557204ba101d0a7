// The shipped postfix filter: every kind it must match, what no mode may match, and
// injection attempts, each of which must yield the real client or nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadFilter, type CompiledFilter } from '../../src/filters/index.js';
import { REPO_ROOT } from '../helpers/run-cli.js';

const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);
const MODES = ['normal', 'more', 'rbl', 'auth', 'ddos', 'extra', 'aggressive', 'errors', 'inbound'];
const filters = new Map<string, CompiledFilter>(MODES.map((m) => [m, loadFilter(`postfix[mode=${m}]`, { timezone: 'UTC' })]));
const mode = (m: string) => filters.get(m) as CompiledFilter;
const H = 'Jun  4 10:11:12 mail';
const C = '203.0.113.5';

function verdict(f: CompiledFilter, line: string): { ip: string; kind: string; fields: Record<string, string> } | null {
  const r = f.match(line, NOW);
  return r.type === 'failure' ? { ip: r.failure.ip, kind: r.failure.kind, fields: { ...r.failure.fields } } : null;
}

// [description, line, kind] — aggressive must match each, with address C (or the IPv6 one).
const MUST_MATCH: [string, string, string][] = [
  ['SASL LOGIN', `${H} postfix/submission/smtpd[1]: warning: unknown[${C}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6`, 'sasl'],
  ['SASL plain, lower case', `${H} postfix/smtpd[1]: warning: unknown[${C}]: SASL plain authentication failed: authentication failure`, 'sasl'],
  ['SASL CRAM-MD5 with port', `${H} postfix/smtpd[1]: warning: host.example[${C}]:4711: SASL CRAM-MD5 authentication failed: PDc3`, 'sasl'],
  ['SASL with sasl_username (3.9)', `${H} postfix/smtpd[1]: warning: unknown[${C}]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=alice@example.org`, 'sasl'],
  ['SASL XOAUTH2 generic failure', `${H} postfix/smtps/smtpd[1]: warning: unknown[${C}]: SASL XOAUTH2 authentication failed: generic failure`, 'sasl'],
  ['SASL aborted', `${H} postfix/smtpd[1]: warning: unknown[${C}]: SASL LOGIN authentication aborted`, 'sasl'],
  ['user unknown, local table, RCPT', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 550 5.1.1 <x@example.org>: Recipient address rejected: User unknown in local recipient table; from=<a@b> to=<x@example.org> proto=ESMTP helo=<h>`, 'user-unknown'],
  ['user unknown, virtual table', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 550 5.1.1 <x@example.org>: Recipient address rejected: User unknown in virtual mailbox table; from=<a@b> to=<x@example.org> proto=ESMTP helo=<h>`, 'user-unknown'],
  ['user unknown, relay table, VRFY', `${H} postfix/smtpd[1]: NOQUEUE: reject: VRFY from unknown[${C}]: 550 5.1.1 <x@example.org>: Recipient address rejected: User unknown in relay recipient table; to=<x@example.org> proto=SMTP`, 'user-unknown'],
  ['relay 454', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 454 4.7.1 <v@example.com>: Relay access denied; from=<a@b> to=<v@example.com> proto=ESMTP helo=<h>`, 'relay'],
  ['relay 554 over IPv6', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[2001:DB8:1::12]: 554 5.7.1 <v@example.com>: Relay access denied; from=<a@b> to=<v@example.com> proto=ESMTP helo=<h>`, 'relay'],
  ['relay 550 (relay_domains_reject_code)', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 550 5.7.1 <v@example.com>: Relay access denied; from=<a@b> to=<v@example.com> proto=ESMTP helo=<h>`, 'relay'],
  ['unlisted sender (forged local sender)', `${H} postfix/smtpd[1]: NOQUEUE: reject: MAIL from unknown[${C}]: 550 5.1.0 <x@example.org>: Sender address rejected: User unknown in local recipient table; from=<x@example.org> proto=ESMTP helo=<h>`, 'sender'],
  ['recipient domain not found', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 450 4.1.2 <x@nx.example>: Recipient address rejected: Domain not found; from=<a@b> to=<x@nx.example> proto=ESMTP helo=<h>`, 'recipient-domain'],
  ['rhsbl sender', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 554 5.7.1 Service unavailable; Sender address [a@spam.example] blocked using dbl.spamhaus.org; from=<a@spam.example> to=<c@d> proto=ESMTP helo=<h>`, 'rbl'],
  ['rhsbl reverse client', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from x.spam.example[${C}]: 554 5.7.1 Service unavailable; Unverified Client host [x.spam.example] blocked using dbl.spamhaus.org; from=<a@b> to=<c@d> proto=ESMTP helo=<h>`, 'rbl'],
  ['RBL with 550 (maps_rbl_reject_code)', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 550 5.7.1 Service unavailable; Client host [${C}] blocked using zen.spamhaus.org; from=<a@b> to=<c@d> proto=ESMTP helo=<h>`, 'rbl'],
  ['lost connection after RCPT', `${H} postfix/smtpd[1]: lost connection after RCPT from unknown[${C}]`, 'lost-connection'],
  ['lost connection after MAIL (3.10 queue id)', `${H} postfix/smtpd[1]: 4Xyz1234abcd: lost connection after MAIL from unknown[${C}]`, 'lost-connection'],
  ['client host rejected', `${H} postfix/smtpd[1]: NOQUEUE: reject: CONNECT from unknown[${C}]: 554 5.7.1 <unknown[${C}]>: Client host rejected: Access denied; proto=SMTP`, 'client'],
  ['sender domain not found, MAIL', `${H} postfix/smtpd[1]: NOQUEUE: reject: MAIL from unknown[${C}]: 450 4.1.8 <a@nx.example>: Sender address rejected: Domain not found; from=<a@nx.example> proto=ESMTP helo=<h>`, 'sender'],
  ['HELO rejected at EHLO', `${H} postfix/smtpd[1]: NOQUEUE: reject: EHLO from unknown[${C}]: 504 5.5.2 <WIN-ABC>: Helo command rejected: need fully-qualified hostname; proto=SMTP helo=<WIN-ABC>`, 'helo'],
  ['HELO rejected at HELO', `${H} postfix/smtpd[1]: NOQUEUE: reject: HELO from unknown[${C}]: 504 5.5.2 <x>: Helo command rejected: Invalid name; proto=SMTP helo=<x>`, 'helo'],
  ['RBL in smtpd', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 554 5.7.1 Service unavailable; Client host [${C}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/${C}; from=<a@b> to=<c@d> proto=ESMTP helo=<h>`, 'rbl'],
  ['undeliverable address', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 550 5.1.1 <x@example.org>: Recipient address rejected: undeliverable address: host mx[1.1.1.1] said: 550 no; from=<a@b> to=<x@example.org> proto=ESMTP helo=<h>`, 'undeliverable'],
  ['data command rejected, DATA', `${H} postfix/smtpd[1]: 4Xyz1234abcd: reject: DATA from unknown[${C}]: 550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce; from=<> proto=ESMTP helo=<h>`, 'reject'],
  ['data command rejected, BDAT', `${H} postfix/smtpd[1]: NOQUEUE: reject: BDAT from unknown[${C}]: 550 5.5.3 <BDAT>: Data command rejected: Multi-recipient bounce; from=<> proto=ESMTP helo=<h>`, 'reject'],
  ['lost connection after AUTH', `${H} postfix/smtpd[1]: lost connection after AUTH from unknown[${C}]`, 'lost-connection'],
  ['lost connection after CONNECT', `${H} postfix/smtpd[1]: lost connection after CONNECT from unknown[${C}]`, 'lost-connection'],
  ['lost connection after EHLO', `${H} postfix/smtpd[1]: lost connection after EHLO from unknown[${C}]`, 'lost-connection'],
  ['lost connection after HELO', `${H} postfix/smtpd[1]: lost connection after HELO from unknown[${C}]`, 'lost-connection'],
  ['lost connection after STARTTLS', `${H} postfix/smtpd[1]: lost connection after STARTTLS from unknown[${C}]`, 'lost-connection'],
  ['lost connection after UNKNOWN (3.10 NOQUEUE prefix)', `${H} postfix/smtpd[1]: NOQUEUE: lost connection after UNKNOWN from unknown[${C}]`, 'lost-connection'],
  ['too many errors', `${H} postfix/smtpd[1]: too many errors after RCPT from unknown[${C}]`, 'too-many-errors'],
  ['improper pipelining', `${H} postfix/smtpd[1]: improper command pipelining after CONNECT from unknown[${C}]: \\026\\003\\001`, 'pipelining'],
  ['non-SMTP command', `${H} postfix/smtpd[1]: warning: non-SMTP command from unknown[${C}]: GET / HTTP/1.1`, 'non-smtp'],
  ['connection rate limit', `${H} postfix/smtpd[1]: warning: Connection rate limit exceeded: 61 from unknown[${C}] for service smtp`, 'rate-limit'],
  ['AUTH rate limit', `${H} postfix/smtpd[1]: warning: AUTH command rate limit exceeded: 11 from unknown[${C}] for service submission`, 'rate-limit'],
  ['failed-auth session summary', `${H} postfix/smtpd[1]: disconnect from unknown[${C}] ehlo=1 auth=0/3 quit=1 commands=2/5`, 'auth-summary'],
  ['postscreen PREGREET', `${H} postfix/postscreen[1]: PREGREET 23 after 0.1 from [${C}]:43163: EHLO x\\r\\n`, 'postscreen'],
  ['postscreen DNSBL rank', `${H} postfix/postscreen[1]: DNSBL rank 6 for [${C}]:43163`, 'postscreen'],
  ['postscreen COMMAND PIPELINING', `${H} postfix/postscreen[1]: COMMAND PIPELINING from [${C}]:43163 after EHLO: MAIL FROM:<a@b>\\r\\n`, 'postscreen'],
  ['postscreen NON-SMTP COMMAND', `${H} postfix/postscreen[1]: NON-SMTP COMMAND from [${C}]:43163 after CONNECT: GET / HTTP/1.1`, 'postscreen'],
  ['postscreen BARE NEWLINE', `${H} postfix/postscreen[1]: BARE NEWLINE from [${C}]:43163 after DATA`, 'postscreen'],
  ['postscreen COMMAND TIME LIMIT', `${H} postfix/postscreen[1]: COMMAND TIME LIMIT from [${C}]:43163 after RCPT`, 'postscreen'],
  ['postscreen COMMAND COUNT LIMIT', `${H} postfix/postscreen[1]: COMMAND COUNT LIMIT from [${C}]:43163 after RCPT`, 'postscreen'],
  ['postscreen COMMAND LENGTH LIMIT', `${H} postfix/postscreen[1]: COMMAND LENGTH LIMIT from [${C}]:43163 after DATA`, 'postscreen'],
  ['postscreen HANGUP', `${H} postfix/postscreen[1]: HANGUP after 2.1 from [${C}]:43163 in tests after SMTP handshake`, 'postscreen'],
  ['postscreen RBL reject', `${H} postfix/postscreen[1]: NOQUEUE: reject: RCPT from [${C}]:43163: 550 5.7.1 Service unavailable; client [${C}] blocked using zen.spamhaus.org; from=<a@b>, to=<c@d>, proto=ESMTP, helo=<h>`, 'rbl'],
  ['instance and service name', `${H} postfix-in/submission/smtpd[1]: warning: unknown[${C}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6`, 'sasl'],
  ['RFC 3339 header', `2025-02-02T09:50:42.211184+01:00 mail postfix/smtpd[1]: lost connection after AUTH from unknown[${C}]`, 'lost-connection'],
  ['RFC 5424 header', `<22>1 2026-06-01T10:00:00Z mail postfix/smtpd 123 - - lost connection after AUTH from unknown[${C}]`, 'lost-connection'],
  ['maillog_file header (zero-padded day)', `Jun 04 10:11:12 mail postfix/smtpd[1]: lost connection after AUTH from unknown[${C}]`, 'lost-connection'],
];

for (const [what, line, kind] of MUST_MATCH) {
  test(`aggressive matches: ${what}`, () => {
    const v = verdict(mode('aggressive'), line);
    assert.ok(v, `no match: ${line}`);
    assert.equal(v.ip, line.includes('2001:DB8') ? '2001:db8:1::12' : C);
    assert.equal(v.kind, kind);
  });
}

test('sasl_username becomes the user field', () => {
  const v = verdict(mode('auth'), MUST_MATCH[3]?.[1] ?? '');
  assert.deepEqual(v?.fields, { user: 'alice@example.org' });
});

const NO_MODE_MATCHES: [string, string][] = [
  ['connect', `${H} postfix/smtpd[1]: connect from mail.example.net[${C}]`],
  ['normal disconnect', `${H} postfix/smtpd[1]: disconnect from mail.example.net[${C}] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5`],
  ['disconnect after good AUTH', `${H} postfix/submission/smtpd[1]: disconnect from unknown[${C}] ehlo=1 auth=1 quit=1 commands=3`],
  ['client= line', `${H} postfix/smtpd[1]: A05F220EA31: client=unknown[${C}]`],
  ['qmgr', `${H} postfix/qmgr[1]: A05F220EA31: from=<good@example.net>, size=442, nrcpt=1 (queue active)`],
  ['smtp delivery', `${H} postfix/smtp[1]: A05F220EA31: to=<b@example.org>, relay=mx.example.org[${C}]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)`],
  ['bounce', `${H} postfix/smtp[1]: A05F220EA31: to=<b@example.org>, relay=mx.example.org[${C}]:25, delay=1, dsn=5.1.1, status=bounced (host said: 550 User unknown)`],
  ['postscreen CONNECT', `${H} postfix/postscreen[1]: CONNECT from [${C}]:43163 to [192.0.2.1]:25`],
  ['postscreen PASS NEW', `${H} postfix/postscreen[1]: PASS NEW [${C}]:43163`],
  ['postscreen PASS OLD', `${H} postfix/postscreen[1]: PASS OLD [${C}]:43163`],
  ['postscreen DISCONNECT', `${H} postfix/postscreen[1]: DISCONNECT [${C}]:43163`],
  ['dnsblog', `${H} postfix/dnsblog[1]: addr ${C} listed by domain zen.spamhaus.org as 127.0.0.4`],
  ['anvil statistics', `${H} postfix/anvil[1]: statistics: max connection rate 1/60s for (smtpd:${C}) at Jun  4 10:00:00`],
  ['lost connection after DATA', `${H} postfix/smtpd[1]: lost connection after DATA (0 bytes) from unknown[${C}]`],
  ['lost connection after DATA, no byte count', `${H} postfix/smtpd[1]: lost connection after DATA from unknown[${C}]`],
  ['lost connection after BDAT', `${H} postfix/smtpd[1]: lost connection after BDAT (512 bytes) from unknown[${C}]`],
  ['lost connection after END-OF-MESSAGE', `${H} postfix/smtpd[1]: lost connection after END-OF-MESSAGE from unknown[${C}]`],
  ['SASL: connection lost to auth server', `${H} postfix/smtpd[1]: warning: unknown[${C}]: SASL LOGIN authentication failed: Connection lost to authentication server`],
  ['greylisting', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from mail.example.net[${C}]: 450 4.2.0 <x@example.org>: Recipient address rejected: Greylisted; from=<a@b> to=<x@example.org> proto=ESMTP helo=<h>`],
  ['hostname does not resolve', `${H} postfix/smtpd[1]: warning: hostname x.example does not resolve to address ${C}`],
];

for (const [what, line] of NO_MODE_MATCHES) {
  test(`no mode matches: ${what}`, () => {
    for (const m of MODES) assert.equal(verdict(mode(m), line), null, `mode ${m} matched`);
  });
}

test('postscreen HANGUP counts only in ddos and aggressive', () => {
  const line = `${H} postfix/postscreen[1]: HANGUP after 2.1 from [${C}]:43163 in tests after SMTP handshake`;
  for (const m of MODES) assert.equal(verdict(mode(m), line) !== null, m === 'ddos' || m === 'aggressive', m);
});

test('errors mode counts only too many errors', () => {
  assert.ok(verdict(mode('errors'), `${H} postfix/smtpd[1]: too many errors after DATA from unknown[${C}]`));
  assert.equal(verdict(mode('errors'), `${H} postfix/smtpd[1]: improper command pipelining after AUTH from unknown[${C}]: QUIT`), null);
});

// Each attempt must yield the real client C or nothing; 192.0.2.66 is the framed innocent.
const X = '192.0.2.66';
const INJECTIONS: [string, string, string | null][] = [
  ['HELO holds a bracketed address', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 554 5.7.1 <v@example.com>: Relay access denied; from=<a@b> to=<v@example.com> proto=ESMTP helo=<x[${X}]>`, C],
  ['sender is an address literal', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 554 5.7.1 <v@example.com>: Relay access denied; from=<a@[${X}]> to=<v@example.com> proto=ESMTP helo=<h>`, C],
  ['recipient mimics the client field', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 554 5.7.1 <x@y from unknown[${X}]: 554 5.7.1 <z>: Relay access denied>: Relay access denied; from=<a@b> to=<v> proto=ESMTP helo=<h>`, C],
  ['sasl_username mimics a SASL warning', `${H} postfix/smtpd[1]: warning: unknown[${C}]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=warning: unknown[${X}]: SASL LOGIN authentication failed:`, C],
  ['pregreet payload with an address', `${H} postfix/postscreen[1]: PREGREET 30 after 0 from [${C}]:4711: EHLO [${X}]:25 from [${X}]:25\\r\\n`, C],
  ['non-SMTP payload with a client field', `${H} postfix/smtpd[1]: warning: non-SMTP command from unknown[${C}]: GET /unknown[${X}] HTTP/1.1`, C],
  ['pipelining payload holding a whole log line', `${H} postfix/smtpd[1]: improper command pipelining after CONNECT from unknown[${C}]: EHLO x\\r\\n${H} postfix/smtpd[1]: warning: unknown[${X}]: SASL LOGIN authentication failed: x`, C],
  ['rhsbl sender holding a client field', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 554 5.7.1 Service unavailable; Sender address [a@spam.example] blocked using dbl.example; from=<a@b from unknown[${X}]: 554 5.7.1 Service unavailable; Client host [${X}] blocked using z> to=<c@d> proto=ESMTP helo=<h>`, C],
  ['rhsbl sender with a bracket, unreadable', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 554 5.7.1 Service unavailable; Sender address [a@b from unknown[${X}]: 554 5.7.1 x] blocked using dbl.example; from=<a@b> to=<c@d> proto=ESMTP helo=<h>`, null],
  ['recipient domain holding a client field', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 450 4.1.2 <x@[${X}] from unknown[${X}]>: Recipient address rejected: Domain not found; from=<a@b> to=<x> proto=ESMTP helo=<h>`, C],
  ['lost-connection command word imitating a client', `${H} postfix/smtpd[1]: lost connection after RCPT from unknown[${X}] from unknown[${C}]`, null],
  ['DNSBL URL with an address', `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[${C}]: 554 5.7.1 Service unavailable; Client host [${C}] blocked using rbl.example; http://rbl.example/q?ip=${X}; from=<a@b> to=<c@d> proto=ESMTP helo=<h>`, C],
  ['host name with digits of another address', `${H} postfix/smtpd[1]: lost connection after AUTH from ${X}.dynamic.example.net[${C}]`, C],
  ['host name with a reversed address', `${H} postfix/smtpd[1]: lost connection after AUTH from 66.2.0.192.in-addr.example[${C}]`, C],
  ['program name with an address', `${H} postfix-${X}/smtpd[1]: lost connection after AUTH from unknown[${C}]`, C],
  ['syslog host is an address', `Jun  4 10:11:12 ${X} postfix/smtpd[1]: lost connection after AUTH from unknown[${C}]`, C],
  ['another program writes a postfix-like line', `${H} myapp[1]: warning: unknown[${X}]: SASL LOGIN authentication failed: x`, null],
  ['logger tag imitating postfix without pid', `${H} postfix/smtpd: warning: unknown[${X}]: SASL LOGIN authentication failed: x`, null],
  ['malformed client address 0x7f.1', `${H} postfix/smtpd[1]: lost connection after AUTH from unknown[0x7f.1]`, null],
  ['malformed client address 1.2.3', `${H} postfix/smtpd[1]: lost connection after AUTH from unknown[1.2.3]`, null],
  ['out-of-range octet', `${H} postfix/smtpd[1]: lost connection after AUTH from unknown[256.2.0.66]`, null],
  ['IPv4-mapped IPv6 client', `${H} postfix/smtpd[1]: lost connection after AUTH from unknown[::ffff:${C}]`, C],
  ['text after the client on an end-anchored line', `${H} postfix/smtpd[1]: lost connection after AUTH from unknown[${C}] unknown[${X}]`, null],
  ['username equal to a postscreen field', `${H} postfix/smtpd[1]: warning: unknown[${C}]:25: SASL PLAIN authentication failed: , sasl_username=[${X}]:25`, C],
];

for (const [what, line, want] of INJECTIONS) {
  test(`injection: ${what} → ${want ?? 'nothing'}`, () => {
    for (const m of MODES) {
      const v = verdict(mode(m), line);
      if (v !== null) assert.equal(v.ip, want, `mode ${m} blamed ${v.ip}`);
    }
    if (want !== null) assert.equal(verdict(mode('aggressive'), line)?.ip, want, 'aggressive should match');
  });
}

test('real Postfix log: every matched line blames the client of that session', () => {
  const text = readFileSync(path.join('/work/shared/reference/real-postfix.log'), 'utf8');
  const f = mode('aggressive');
  const hits = text.split('\n').filter(Boolean).map((l) => ({ l, v: verdict(f, l) })).filter((x) => x.v !== null);
  assert.ok(hits.length >= 10, `only ${hits.length} matches`);
  for (const { l, v } of hits) assert.ok(l.includes(`[${v?.ip}]`), `${v?.ip} not the client in: ${l}`);
  const kinds = new Set(hits.map((h) => h.v?.kind));
  for (const k of ['user-unknown', 'relay', 'lost-connection', 'pipelining', 'too-many-errors', 'postscreen', 'sasl', 'auth-summary']) assert.ok(kinds.has(k), `kind ${k} not seen`);
});

test('the shipped file loads by path exactly like by name', () => {
  const byPath = loadFilter(`${path.join(REPO_ROOT, 'filters/postfix.toml')}[mode=aggressive]`, { timezone: 'UTC' });
  for (const [, line] of MUST_MATCH) assert.deepEqual(byPath.match(line, NOW), mode('aggressive').match(line, NOW));
});

test('inbound (the default mode) counts password guessing and probing, not what big senders do', () => {
  const f = loadFilter('postfix', { timezone: 'UTC' });
  assert.equal(f.mode, 'inbound');
  const kinds = new Set(f.regexes.map((r) => r.kind));
  assert.deepEqual([...kinds].sort(), ['non-smtp', 'pipelining', 'relay', 'sasl', 'too-many-errors', 'user-unknown']);
  for (const k of kinds) assert.equal(f.countsForNetwork(k), true, k);
  let matched = 0;
  for (const [what, line, kind] of MUST_MATCH) {
    const v = verdict(f, line);
    if (!kinds.has(kind)) assert.equal(v, null, `inbound matched ${what}`);
    else if (v !== null) matched++;
  }
  assert.ok(matched >= 10, `inbound matched only ${matched} samples`);
});

test('<HOST> captures the verified client name; unknown, postscreen and hostile names give none', () => {
  const f = mode('aggressive');
  const client = (line: string) => {
    const r = f.match(line, NOW);
    return r.type === 'failure' ? { ip: r.failure.ip, client: r.failure.client } : null;
  };
  const rcpt = (host: string) => `${H} postfix/smtpd[1]: NOQUEUE: reject: RCPT from ${host}: 454 4.7.1 <x@elsewhere.example>: Relay access denied; from=<a@b> to=<x@elsewhere.example> proto=ESMTP helo=<h>`;
  assert.deepEqual(client(rcpt(`mail-yw1-f170.google.com[${C}]`)), { ip: C, client: 'mail-yw1-f170.google.com' });
  assert.deepEqual(client(rcpt(`unknown[${C}]`)), { ip: C, client: undefined });
  assert.deepEqual(client(`${H} postfix/postscreen[1]: PREGREET 11 after 0.1 from [${C}]:4711: EHLO x`), { ip: C, client: undefined });
  // A name with brackets or spaces cannot be a <HOST> name: the line blames the address in the
  // first brackets or nobody, and never carries the hostile text as a name.
  for (const host of [`unknown[${C}].outbound.protection.outlook.com[198.51.100.1]`, `x y.google.com[${C}]`, `a[b].google.com[${C}]`]) {
    const v = client(rcpt(host));
    assert.ok(v === null || (v.client === undefined || !/[\[\]\s]/.test(v.client)), `${host}: ${JSON.stringify(v)}`);
    assert.notEqual(v?.ip, '198.51.100.1');
  }
  // fields never hold the reserved groups.
  const r = f.match(rcpt(`mail-yw1-f170.google.com[${C}]`), NOW);
  assert.ok(r.type === 'failure' && Object.keys(r.failure.fields).length === 0);
});
