// Rendering the report: escapes, character charts, and the HTML page's safety and shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml } from '../../src/report/text-safety.js';
import { safeText as escapeTerminal } from '../../src/safe-text.js';
import { bar, sparkline, utf8Locale } from '../../src/report/charts-text.js';
import { niceCeil, renderHtml, stackedColumns } from '../../src/report/html.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { ReportBuilder } from '../../src/report/aggregate.js';
import type { Report } from '../../src/report/model.js';

const T0 = Date.parse('2026-11-27T10:00:00Z');

function hostileReport(): Report {
  const b = new ReportBuilder();
  const name = `<img src=x onerror="alert(1)">&amp;'`;
  b.addFailure({ jail: 'postfix', time: T0, address: '192.0.2.1', family: 4, kind: 'sasl', name, user: 'u\x1b]0;pwned\x07\u202eevil<b>' });
  b.addFailure({ jail: 'postfix', time: T0 + 600_000, address: '192.0.2.2', family: 4, kind: 'relay' });
  b.addBan({ jail: 'postfix', time: T0, target: { addr: '192.0.2.1' as never, prefix: 32, family: 4 }, kind: 'address' });
  return b.build({ source: { kind: 'log', files: ['/var/log/mail<1>.log'], lines: 3, notes: [] }, generatedAt: T0 });
}

test('terminal escape: controls, DEL, C1 and bidi overrides become visible; backslashes double', () => {
  assert.equal(escapeTerminal('a\x1b[31mb\x07c\x7fd\x9be\u202ef\\g'), 'a\\x1b[31mb\\x07c\\x7fd\\x9be\\u202ef\\\\g');
  assert.equal(escapeTerminal('plain text é ü'), 'plain text é ü');
});

test('HTML escape: markup and both quotes, and controls as in the terminal', () => {
  assert.equal(escapeHtml(`<script>alert("x")&'</script>`), '&lt;script&gt;alert(&quot;x&quot;)&amp;&#39;&lt;/script&gt;');
  assert.equal(escapeHtml('a\x00b'), 'a\\x00b');
});

test('sparkline and bars: eight heights in Unicode, ASCII elsewhere, zero is blank', () => {
  assert.equal(sparkline([0, 1, 2, 4, 8], true), ' ▁▂▄█');
  assert.equal(sparkline([0, 1, 2, 4, 8], false), ' .,-#');
  assert.equal(sparkline([0, 0], true), '  ');
  assert.equal(bar(10, 10, 4, true), '████');
  assert.equal(bar(5, 10, 3, true), '█▌');
  assert.equal(bar(1, 1000, 10, true), '▏');
  assert.equal(bar(5, 10, 4, false), '##');
  assert.equal(bar(0, 10, 4, false), '');
  assert.equal(utf8Locale({ LANG: 'en_US.UTF-8' }), true);
  assert.equal(utf8Locale({ LC_ALL: 'C', LANG: 'en_US.UTF-8' }), false);
  assert.equal(utf8Locale({ LC_CTYPE: 'C.utf8' }), true);
  assert.equal(utf8Locale({}), false);
});

test('the terminal report never prints a raw control character from a log', () => {
  const out = renderTerminal(hostileReport(), { unicode: true });
  // eslint-disable-next-line no-control-regex
  assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/.test(out), 'only newlines as controls');
  assert.ok(out.includes('u\\x1b]0;pwned\\x07\\u202eevil<b>'));
  assert.match(out, /^sasl +\|█ +\| max 1$/m);
});

test('the HTML page: every log text escaped, no URL or script, viewport and CSP present', () => {
  const html = renderHtml(hostileReport());
  assert.ok(!html.includes('<img'), 'the hostile name is not markup');
  assert.ok(html.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;amp;&#39;'));
  assert.ok(html.includes('u\\x1b]0;pwned\\x07\\u202eevil&lt;b&gt;'));
  assert.ok(html.includes('/var/log/mail&lt;1&gt;.log'));
  assert.doesNotMatch(html, /https?:|\/\/[a-z0-9]|url\(|<script|<link|src=[^x]|href=/i);
  assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.equal((html.match(/<svg /g) ?? []).length, 3, 'the clients share bar (no connection seen), the timeline and the bans chart');
  assert.match(html, /<div class="scroll"><table>/);
});

test('stacked columns: heights are proportional on a round scale', () => {
  assert.deepEqual([1, 3, 7, 12, 45, 101].map(niceCeil), [1, 4, 10, 20, 50, 200]);
  const svg = stackedColumns([{ label: 'a', color: '#000001', values: [2, 4] }], { start: 's', end: 'e', title: 't' });
  const heights = [...svg.matchAll(/fill="#000001"><title>[^<]*<\/title>/g)].length;
  assert.equal(heights, 2);
  const hs = [...svg.matchAll(/height="([\d.]+)" fill="#000001"/g)].map((m) => Number(m[1]));
  assert.equal(hs.length, 2);
  assert.ok(Math.abs(hs[1]! - 2 * hs[0]!) < 0.2, `4 is twice as tall as 2: ${hs.join(', ')}`);
});

test('a long period: bans per hour list only the hours with bans, and nothing overflows', () => {
  const b = new ReportBuilder();
  const H = 3_600_000;
  b.addFailure({ jail: 'j', time: T0, address: '192.0.2.1', family: 4, kind: 'sasl' });
  for (let i = 0; i < 150_000; i++) b.addBan({ jail: 'j', time: T0 + (i % 3) * 100 * H, target: { addr: '192.0.2.1' as never, prefix: 32, family: 4 }, kind: 'address' });
  const r = b.build({ source: { kind: 'log', notes: [] }, generatedAt: T0 });
  assert.equal(r.bansPerHour!.hours.length, 201);
  const out = renderTerminal(r, { unicode: false });
  const lines = out.split('\n').filter((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d \|/.test(l));
  assert.equal(lines.length, 3);
  assert.match(out, /\(198 hours without bans left out\)/);
  assert.ok(renderHtml(r).includes('<svg'));
});
