import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { generateLog } from './generate-log.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pban-genlog-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const START = new Date('2026-11-20T10:00:00Z');

/** The attack signals, written independently of the generator's templates. */
const FAILING = [
  /: warning: \S+\[[^\]]+\]: SASL \S+ authentication failed: /,
  /: (?:NOQUEUE|[0-9A-F]+): reject: RCPT from /,
  /: (?:NOQUEUE: )?lost connection after (?:AUTH|CONNECT|EHLO|HELO|STARTTLS|UNKNOWN) from /,
  /: too many errors after /,
  /: improper command pipelining after /,
  /: warning: non-SMTP command from /,
  /: warning: Connection rate limit exceeded: /,
  /postscreen\[\d+\]: (?:PREGREET|DNSBL rank|COMMAND PIPELINING|HANGUP) /,
];
const BSD = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d\d):(\d\d):(\d\d) mail postfix/;
const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d) mail postfix/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function readLines(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'));
  return text.slice(0, -1).split('\n');
}

/** The line's time in ms (BSD lines: whole seconds, local time, year of START). */
function timeOf(line: string): number {
  const r = RFC3339.exec(line);
  if (r) return Date.parse(r[1]!);
  const b = BSD.exec(line);
  assert.ok(b, `no known header: ${line}`);
  return new Date(START.getFullYear(), MONTHS.indexOf(b[1]!), Number(b[2]!.trim()), Number(b[3]), Number(b[4]), Number(b[5])).getTime();
}

/** The client address a failing line blames (after `from`/`warning:`, or postscreen's [addr]:port). */
function blamed(line: string): string {
  const m = /(?:warning: |from |DNSBL rank \d+ for )\S*?\[([0-9a-f.:]+)\]/.exec(line);
  assert.ok(m, `no client in ${line}`);
  return m[1]!;
}

test('the same seed gives the same bytes; another seed does not', async () => {
  const files = ['a', 'b', 'c'].map((n) => path.join(dir, `${n}.log`));
  const r1 = await generateLog({ lines: 20_000, seed: 42, out: files[0]!, start: START });
  const r2 = await generateLog({ lines: 20_000, seed: 42, out: files[1]!, start: START });
  const r3 = await generateLog({ lines: 20_000, seed: 43, out: files[2]!, start: START });
  const digest = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
  assert.deepEqual(r1, r2);
  assert.equal(digest(files[0]!), digest(files[1]!));
  assert.notEqual(digest(files[0]!), digest(files[2]!));
  assert.equal(r1.lines, 20_000);
  assert.equal(r1.bytes, readFileSync(files[0]!).length);
});

test('a realistic mix: ~12% attack signals, both header formats, increasing time, disjoint address sets', async () => {
  const file = path.join(dir, 'mix.log');
  const r = await generateLog({ lines: 50_000, seed: 7, out: file, start: START });
  const lines = readLines(file);
  assert.equal(lines.length, 50_000);

  const failing = lines.filter((l) => FAILING.some((re) => re.test(l)));
  assert.equal(failing.length, r.failing, 'the generator counts what an independent matcher finds');
  const share = failing.length / lines.length;
  assert.ok(share > 0.1 && share < 0.14, `attack share ${share}`);

  const bsd = lines.filter((l) => BSD.test(l)).length;
  const rfc = lines.filter((l) => RFC3339.test(l)).length;
  assert.equal(bsd + rfc, lines.length, 'every line has one of the two headers');
  assert.ok(bsd > 10_000 && rfc > 10_000, `bsd ${bsd}, rfc3339 ${rfc}`);

  let prev = -Infinity;
  for (const l of lines) {
    const t = timeOf(l);
    assert.ok(t >= prev - 999, `time goes backwards at ${l}`); // BSD lines drop the fraction
    prev = Math.max(prev, t);
  }
  const spanH = (timeOf(lines.at(-1)!) - timeOf(lines[0]!)) / 3_600_000;
  assert.ok(spanH > 0.1 && spanH < 1, `50k lines span ${spanH.toFixed(2)} h`);

  // Every kind the filters must handle is present.
  for (const re of [...FAILING, /sasl_username=/, /SASL \S+ authentication failed: [^,]+$/, /: 454 4\.7\.1 /, /: 554 5\.7\.1 <[^>]+>: Relay/,
    /User unknown in /, /postscreen\[\d+\]: (?:CONNECT from|PASS OLD|PASS NEW|DISCONNECT) /, /postfix\/qmgr\[/, /postfix\/cleanup\[/,
    /postfix\/(?:local|lmtp|smtp)\[\d+\]: [0-9A-F]+: to=</, /postfix\/anvil\[\d+\]: statistics: /, /postfix\/dnsblog\[/, /TLS connection established/,
    /disconnect from \S+ .*commands=/, /lost connection after CONNECT/, /lost connection after EHLO/, /lost connection after AUTH/]) {
    assert.ok(lines.some((l) => re.test(l)), `some line matches ${re}`);
  }

  // Addresses of failing lines and of plainly normal lines never overlap.
  const attackers = new Set(failing.map(blamed));
  const normalLine = /: [0-9A-F]+: client=\S*\[([^\]]+)\]|statistics: max connection \w+ \S+ for \(smtp:([^)]+)\)|listed by domain list\.dnswl\.org|PASS OLD \[([^\]]+)\]/;
  let normalSeen = 0;
  for (const l of lines) {
    const m = normalLine.exec(l);
    const a = m?.[1] ?? m?.[2] ?? m?.[3];
    if (a === undefined) continue;
    normalSeen++;
    assert.ok(!attackers.has(a), `normal traffic from an attacking address: ${l}`);
  }
  assert.ok(normalSeen > 1000);

  // Attacks cluster in the documentation networks and also come from many one-offs.
  const inClusters = [...attackers].filter((a) => /^(192\.0\.2|198\.51\.100|203\.0\.113)\.|^2001:db8:(1|2|bad|f00):/.test(a));
  assert.ok(inClusters.length > 100 && inClusters.length < 500, `${inClusters.length} clustered attackers`);
  assert.ok(attackers.size - inClusters.length > 500, `${attackers.size - inClusters.length} one-off attackers`);
  assert.equal(attackers.size, r.failingAddresses);
  assert.ok([...attackers].some((a) => a.includes(':')), 'IPv6 attackers too');
});

test('distinctFailing puts N failures from N distinct addresses inside the window', async () => {
  const file = path.join(dir, 'distinct.log');
  const r = await generateLog({ lines: 30_000, seed: 3, out: file, start: START, distinctFailing: 10_000, windowMs: 120_000 });
  const lines = readLines(file);
  assert.equal(lines.length, 30_000);
  const failing = lines.filter((l) => FAILING.some((re) => re.test(l)));
  assert.equal(failing.length, 10_000);
  assert.equal(r.failing, 10_000);
  assert.equal(new Set(failing.map(blamed)).size, 10_000);
  const span = timeOf(lines.at(-1)!) - timeOf(lines[0]!);
  assert.ok(span <= 121_000, `span ${span} ms`);
});

test('distinctFailing equal to lines makes every line a distinct failure', async () => {
  const file = path.join(dir, 'all.log');
  await generateLog({ lines: 5_000, seed: 1, out: file, start: START, distinctFailing: 5_000 });
  const lines = readLines(file);
  assert.equal(lines.length, 5_000);
  assert.equal(new Set(lines.map(blamed)).size, 5_000);
});

test('single-digit days are space-padded in BSD headers', async () => {
  const file = path.join(dir, 'pad.log');
  await generateLog({ lines: 200, seed: 5, out: file, start: new Date(2026, 10, 7, 9, 0, 0) });
  const first = readLines(file)[0]!;
  assert.match(first, /^Nov  7 09:00:0\d mail postfix/);
});

test('bad options are refused', async () => {
  await assert.rejects(generateLog({ lines: 10, seed: 1, out: path.join(dir, 'x.log'), distinctFailing: 11 }), /distinctFailing must be/);
  await assert.rejects(generateLog({ lines: -1, seed: 1, out: path.join(dir, 'x.log') }), /lines must be/);
});
