// Differential test: our native postfix and dovecot filters (filters/*.toml) against fail2ban's
// postfix.conf and dovecot.conf, read unchanged through our fail2ban reader
// (src/filters/fail2ban/), mode by mode, over (a) fail2ban's own sample logs and (b) a seeded
// generated corpus (test/helpers/mail-corpus.ts) of every Postfix and Dovecot failure form,
// normal mail flow and injection attempts.
//
// The rules:
// 1. Every line fail2ban's filter matches, ours match in the mapped mode, with the same address,
//    unless fail2ban took a decoy address written by the client (FAIL2BAN_WRONG): there ours
//    must take the real one or nothing.
//    The one exception is OMISSIONS: lines fail2ban matches that ours leave because taking
//    them would let the client choose the address.
// 2. Every line ours match and fail2ban's do not is a deliberate extension, listed in
//    EXTENSIONS with the reason. An entry no line uses fails the test (the lists stay honest).
// 3. On the corpus, whatever ours match carries the real client's address; normal mail flow and
//    the forms counted by no mode on purpose are matched by no mode of ours; everything the
//    default mode `inbound` counts is a network kind.
//
// fail2ban's samples and filter.d come from Debian's fail2ban package, unpacked (never
// installed) by scripts/setup-test-env.sh into ${TMPDIR:-/tmp}/pban-fail2ban-samples. Missing,
// they fail this test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadFilter, type CompiledFilter } from '../../src/filters/index.js';
import { FILTER_D, LOGS } from './fail2ban/harness.js';
import { FORMS, generateMailCorpus, type CorpusLine } from '../helpers/mail-corpus.js';

type FilterName = 'postfix' | 'dovecot';

/**
 * fail2ban's mode → ours. The names are the same on purpose (filters/README.md); our postfix
 * filter adds `inbound` (its default, a subset of `extra` holding only network kinds), which has
 * no fail2ban counterpart and is checked by rule 3 only.
 */
export const MODE_MAP: Readonly<Record<FilterName, readonly (readonly [f2b: string, ours: string])[]>> = {
  postfix: [
    ['normal', 'normal'],
    ['more', 'more'],
    ['rbl', 'rbl'],
    ['auth', 'auth'],
    ['ddos', 'ddos'],
    ['extra', 'extra'],
    ['aggressive', 'aggressive'],
    ['errors', 'errors'],
  ],
  dovecot: [
    ['normal', 'normal'],
    ['aggressive', 'aggressive'],
  ],
};

interface Deviation {
  readonly filter: FilterName;
  /** Our modes it applies in. */
  readonly modes: readonly string[];
  /** Corpus forms it covers (test/helpers/mail-corpus.ts). */
  readonly forms?: readonly string[];
  /** Lines it covers, by their text (for fail2ban's sample logs). */
  readonly text?: RegExp;
  readonly reason: string;
}

const P_ALL = ['normal', 'more', 'rbl', 'auth', 'ddos', 'extra', 'aggressive', 'errors'];
const P_REJECTS = ['normal', 'more', 'extra', 'aggressive'];

const P_ERRORS = ['normal', 'more', 'extra', 'aggressive', 'errors'];
const D_ALL = ['normal', 'aggressive'];

/** Lines ours match and fail2ban's do not, on purpose. */
const EXTENSIONS: readonly Deviation[] = [
  // ---- postfix: forms fail2ban's regexes do not read -------------------------------------
  { filter: 'postfix', modes: P_REJECTS, forms: ['client-connect'], reason: 'rejects at CONNECT: fail2ban reads the command as [A-Z]{4}, one letter short of CONNECT' },
  { filter: 'postfix', modes: P_REJECTS, forms: ['data-pipelining'], reason: 'reject_unauth_pipelining at DATA answers 503, outside fail2ban\'s [45][50][04]' },
  { filter: 'postfix', modes: P_REJECTS, forms: ['helo-invalid'], reason: 'reject_invalid_helo_hostname (501 Invalid name): a bot\'s HELO like need fully-qualified hostname, which fail2ban counts' },
  { filter: 'postfix', modes: P_REJECTS, forms: ['sender-fqdn'], reason: 'reject_non_fqdn_sender (need fully-qualified address): fail2ban knows only the HELO form (…hostname)' },
  { filter: 'postfix', modes: P_ERRORS, forms: ['too-many-errors-3.10'], reason: 'Postfix 3.10 writes NOQUEUE: or the queue id before session-end lines; fail2ban\'s prefix has no room for it' },
  { filter: 'postfix', modes: P_ERRORS, forms: ['too-many-errors-data'], reason: 'too many errors after DATA (N bytes): fail2ban reads one word after "after"' },
  { filter: 'postfix', modes: P_ALL, forms: ['inject-postfix-syslog-name'], reason: 'a multi-instance syslog_name with dots (postfix-192.0.2.9/smtpd): fail2ban\'s postfix(-\\w+)? refuses it; ours take the client field, never the tag' },
  { filter: 'postfix', modes: ['ddos', 'aggressive'], forms: ['lost-3.10'], reason: 'Postfix 3.10\'s NOQUEUE: lost connection after …' },
  { filter: 'postfix', modes: ['ddos', 'aggressive'], forms: ['auth-summary-ehlo-failed'], reason: 'a session summary with a failed EHLO (ehlo=0/1 auth=0/1): fail2ban\'s \\S+=\\d+ stops at the slash' },
  { filter: 'postfix', modes: ['auth', 'extra', 'aggressive'], forms: ['sasl-other-mech'], reason: 'SASL mechanisms other than LOGIN, PLAIN, CRAM-MD5 and DIGEST-MD5 (SCRAM-SHA-256, XOAUTH2, NTLM, …) fail just as well' },
  // ---- postfix: what fail2ban's modes leave out --------------------------------------------
  { filter: 'postfix', modes: ['extra', 'aggressive'], forms: ['non-smtp'], reason: 'non-SMTP commands (HTTP, RDP cookies, binary): protocol abuse, not in fail2ban\'s filter' },
  { filter: 'postfix', modes: ['extra', 'aggressive'], forms: ['rate-limit'], reason: 'anvil rate-limit warnings name the client; an address kind' },
  { filter: 'postfix', modes: ['aggressive'], forms: ['sasl-aborted'], reason: 'SASL authentication aborted (the client sent *): a guesser giving up' },
  { filter: 'postfix', modes: ['aggressive'], forms: ['postscreen-dnsbl', 'postscreen-protocol'], reason: 'postscreen\'s DNSBL rank and deep protocol tests (COMMAND PIPELINING, NON-SMTP COMMAND, BARE NEWLINE): fail2ban counts only PREGREET, HANGUP and the limits' },
  // ---- postfix rbl mode: fail2ban's rbl regex is narrower than the RBL match of its normal mode
  { filter: 'postfix', modes: ['rbl'], forms: ['postscreen-rbl'], text: /postscreen\[\d+\]: NOQUEUE: reject: RCPT from \[[^\]]+\]:\d+: 550 5\.7\.1 Service unavailable; client \[/, reason: 'postscreen\'s own DNSBL reject (client […], code 550): fail2ban\'s rbl mode wants 554 and Client host; its normal mode counts it' },
  { filter: 'postfix', modes: ['rbl'], text: /postscreen\[\d+\]: NOQUEUE: reject: RCPT from \[[^\]]+\]:\d+: 550 5\.7\.1 Service unavailable; client \[/, reason: 'the same postscreen reject in fail2ban\'s own sample log' },
  { filter: 'postfix', modes: ['rbl'], forms: ['rbl-client'], text: / [45]5[01] [45]\.7\.1 Service unavailable; Client host /, reason: 'maps_rbl_reject_code 550 (or a 450 deferral): fail2ban\'s rbl mode wants 554, its normal mode counts them' },
  { filter: 'postfix', modes: ['rbl'], forms: ['rbl-domain'], reason: 'reject_rhsbl_* (Sender address, Helo command, Recipient address, Unverified Client host [name]): fail2ban\'s rbl mode knows only Client host, its normal mode counts them' },
  // ---- dovecot ---------------------------------------------------------------------------
  { filter: 'dovecot', modes: D_ALL, forms: ['dovecot-auth-failed-2.4'], text: /: Login aborted\b/, reason: 'Dovecot 2.4 writes Login aborted where 2.3 wrote Aborted login' },
  { filter: 'dovecot', modes: D_ALL, forms: ['dovecot-auth-failed', 'dovecot-auth-failed-2.4', 'dovecot-plaintext', 'dovecot-proxy', 'dovecot-no-auth'], text: /\) \((?:auth_failed|auth_aborted|disconnected)\): /, reason: 'the disconnect reason code newer Dovecot writes after the reason ((auth_failed), …)' },
  { filter: 'dovecot', modes: D_ALL, forms: ['inject-dovecot-user-rip'], reason: 'a user name holding ">, … rip=<decoy>": fail2ban\'s [^>]* user field cannot read the line; ours take the last rip=' },
];

/** Lines fail2ban's filter matches and ours leave on purpose: only where taking them is unsafe. */
const OMISSIONS: readonly Deviation[] = [
  { filter: 'dovecot', modes: D_ALL, forms: ['dovecot-passdb-paren-password'], reason: 'auth_verbose_passwords=plain with a password holding parentheses: the client writes the user name before the address and the password after it, so only a parenthesis-free password keeps the end anchor safe (filters/dovecot.toml)' },
];

/** Lines where fail2ban takes an address the client wrote; ours take the real one or none. */
const FAIL2BAN_WRONG: readonly Deviation[] = [
  { filter: 'dovecot', modes: D_ALL, forms: ['inject-dovecot-passdb-user'], reason: 'a passdb user name "x,<decoy>,<a>): unknown user" (possible with an empty auth_username_chars): fail2ban\'s passdb regex is not anchored to the end, so it stops at the decoy; ours are' },
  { filter: 'dovecot', modes: D_ALL, forms: ['inject-dovecot-passdb-password'], reason: 'the same user name with auth_verbose_passwords=plain, whose password follows the real address: fail2ban stops at the decoy; ours match nothing (no password-free parse ends the line)' },
];

interface Line {
  readonly text: string;
  readonly where: string;
  readonly form?: string;
  readonly cls?: CorpusLine['cls'];
  readonly addr?: string | null;
}

function covers(d: Deviation, filter: FilterName, mode: string, line: Line): boolean {
  if (d.filter !== filter || !d.modes.includes(mode)) return false;
  // Both given: both must hold (a form, narrowed to some of its lines); one given: that one.
  if (d.forms !== undefined && (line.form === undefined || !d.forms.includes(line.form))) return false;
  return d.text === undefined || d.text.test(line.text);
}

// fail2ban's test clock and zone (its samples' dates are read against them); the corpus is
// dated 2026-11-25 in UTC and read on the next day.
const SAMPLE_NOW = Date.UTC(2005, 7, 14, 10, 0, 0);
const SAMPLE_ZONE = 'Europe/Paris';
const CORPUS_NOW = Date.UTC(2026, 10, 27, 0, 0, 0);
const CORPUS_ZONE = 'UTC';
const CORPUS_LINES = 40_000;
const CORPUS_SEED = 11;

function sampleLines(name: FilterName): Line[] {
  const file = path.join(LOGS, name);
  assert.ok(existsSync(file), `no fail2ban sample log at ${file}: run scripts/setup-test-env.sh`);
  const out: Line[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
    if (text.trim() === '' || text.startsWith('#')) return;
    out.push({ text, where: `fail2ban sample ${name}:${i + 1}` });
  });
  return out;
}

let corpus: CorpusLine[] | undefined;
function corpusLines(name: FilterName): Line[] {
  corpus ??= generateMailCorpus(CORPUS_LINES, CORPUS_SEED);
  return corpus
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.filter === name)
    .map(({ c, i }) => ({ text: c.text, where: `corpus line ${i + 1} (${c.form})`, form: c.form, cls: c.cls, addr: c.addr }));
}

interface Report {
  problems: string[];
  used: Set<Deviation>;
  counts: string[];
}

function ip(f: CompiledFilter, text: string, now: number): string | null {
  const r = f.match(text, now);
  return r.type === 'failure' ? r.failure.ip : null;
}

function compare(name: FilterName, lines: readonly Line[], now: number, zone: string, report: Report, label: string): void {
  for (const [f2bMode, ourMode] of MODE_MAP[name]) {
    const f2b = loadFilter(`${path.join(FILTER_D, `${name}.conf`)}[mode=${f2bMode}]`, { timezone: zone, now });
    const ours = loadFilter(`${name}[mode=${ourMode}]`, { timezone: zone });
    let theirs = 0;
    let both = 0;
    let extra = 0;
    let wrong = 0;
    let omitted = 0;
    const missedForms = new Map<string, number>();
    for (const line of lines) {
      const a = ip(f2b, line.text, now);
      const b = ip(ours, line.text, now);
      const where = `${label} ${name} ${f2bMode}→${ourMode}, ${line.where}`;
      if (a !== null) theirs++;
      if (a !== null && b === a) {
        both++;
        continue;
      }
      if (a === null && b === null) continue;
      if (a !== null && line.addr !== undefined && a !== line.addr) {
        // fail2ban took an address the client wrote.
        const d = FAIL2BAN_WRONG.find((x) => covers(x, name, ourMode, line));
        if (!d) report.problems.push(`${where}: fail2ban takes ${a}, the client is ${line.addr ?? 'none'}, not listed in FAIL2BAN_WRONG: ${line.text}`);
        else report.used.add(d);
        wrong++;
        if (b !== null && b !== line.addr) report.problems.push(`${where}: ours take ${b}, the client is ${line.addr ?? 'none'}: ${line.text}`);
        continue;
      }
      if (a !== null && b === null) {
        const d = OMISSIONS.find((x) => covers(x, name, ourMode, line));
        if (d) {
          report.used.add(d);
          omitted++;
          continue;
        }
      }
      if (a !== null) {
        missedForms.set(line.form ?? 'sample', (missedForms.get(line.form ?? 'sample') ?? 0) + 1);
        report.problems.push(b === null ? `${where}: fail2ban matches ${a}, ours do not: ${line.text}` : `${where}: fail2ban takes ${a}, ours ${b}: ${line.text}`);
        continue;
      }
      extra++;
      const d = EXTENSIONS.find((x) => covers(x, name, ourMode, line));
      if (!d) report.problems.push(`${where}: ours match ${b} where fail2ban does not, not listed in EXTENSIONS: ${line.text}`);
      else report.used.add(d);
    }
    const missed = [...missedForms].map(([f, n]) => `${f} ${n}`).join(', ');
    report.counts.push(`${label} ${name} ${f2bMode}→${ourMode}: fail2ban ${theirs}, both ${both} (${theirs ? ((100 * both) / theirs).toFixed(1) : '100.0'}%), fail2ban took a decoy ${wrong}, left on purpose ${omitted}, ours only ${extra}${missed ? `; missed: ${missed}` : ''}`);
  }
}

/** Rule 3, on the corpus only: the right address, never normal flow, inbound only network kinds. */
function corpusTruth(name: FilterName, lines: readonly Line[], report: Report): void {
  const probe = loadFilter(name);
  for (const mode of probe.modes) {
    const ours = loadFilter(`${name}[mode=${mode}]`, { timezone: CORPUS_ZONE });
    for (const line of lines) {
      const r = ours.match(line.text, CORPUS_NOW);
      if (r.type !== 'failure') continue;
      const where = `corpus ${name}[mode=${mode}], ${line.where}`;
      if (line.cls !== 'failure') report.problems.push(`${where}: a ${line.cls} line matched (${r.failure.ip}, ${ours.regexes[r.regex]?.id}): ${line.text}`);
      else if (r.failure.ip !== line.addr) report.problems.push(`${where}: took ${r.failure.ip}, the client is ${line.addr ?? 'none'}: ${line.text}`);
      if (mode === 'inbound' && !r.failure.network) report.problems.push(`${where}: inbound counts kind ${r.failure.kind}, which is not a network kind: ${line.text}`);
    }
  }
}

test('the corpus holds every form, each with its real client address', () => {
  const lines = generateMailCorpus(CORPUS_LINES, CORPUS_SEED);
  assert.equal(lines.length, CORPUS_LINES);
  assert.deepEqual(generateMailCorpus(200, CORPUS_SEED), lines.slice(0, 200), 'the generator is deterministic');
  const seen = new Set(lines.map((l) => l.form));
  assert.deepEqual(FORMS.map((f) => f.id).filter((id) => !seen.has(id)), []);
  for (const l of lines) {
    assert.equal(l.cls === 'normal', l.addr === null, `${l.form}: ${l.text}`);
    if (l.addr !== null) assert.ok(l.text.includes(l.addr.includes(':') ? l.addr : `${l.addr}`), `${l.form}: ${l.addr} not in ${l.text}`);
  }
});

for (const name of ['postfix', 'dovecot'] as const) {
  test(`${name}: ours match whatever fail2ban's ${name}.conf matches, mode by mode, with the same address`, { timeout: 600_000 }, () => {
    assert.ok(existsSync(path.join(FILTER_D, `${name}.conf`)), `no fail2ban filter.d at ${FILTER_D}: run scripts/setup-test-env.sh`);
    const report: Report = { problems: [], used: new Set(), counts: [] };
    compare(name, sampleLines(name), SAMPLE_NOW, SAMPLE_ZONE, report, 'samples');
    const lines = corpusLines(name);
    compare(name, lines, CORPUS_NOW, CORPUS_ZONE, report, 'corpus');
    corpusTruth(name, lines, report);
    const unused = [...EXTENSIONS, ...OMISSIONS, ...FAIL2BAN_WRONG].filter((d) => d.filter === name && !report.used.has(d));
    for (const d of unused) report.problems.push(`listed but never seen: ${d.forms?.join(', ') ?? String(d.text)} (${d.reason})`);
    process.stdout.write(`${report.counts.join('\n')}\n`);
    const shown = report.problems.slice(0, 60);
    assert.deepEqual(shown, [], `${report.problems.length} problems:\n${shown.join('\n')}`);
  });
}
