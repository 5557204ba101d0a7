// `pban report --html` rendered by a real headless Chromium: the screenshot shows charts (the
// pixels of their colours are there, the image is not blank), the page holds no external URL
// (nor anything that loads one: src, href, url(), @import, script; its Content-Security-Policy
// forbids fetching too), and the hostile client name came out as text, not markup. Chromium runs
// with every network lookup failing, so nothing could be fetched while it renders. (Its netlog
// is no help here: the browser itself calls Google's update and account services.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runPban } from '../helpers/run-cli.js';
import { findCommand, requireCommands } from '../helpers/system.js';
import { brightnessVariance, countColor, decodePng } from '../helpers/png.js';
import { BAN_COLORS, PALETTE, SHARE_COLORS } from '../../src/report/html.js';
import { HOSTILE_NAME, writeAttack } from './attack-log.js';

const run = promisify(execFile);
let dir: string;
let html: string;

before(() => {
  requireCommands(['chromium']);
  dir = mkdtempSync(path.join(os.tmpdir(), 'pban-report-html-'));
  const { config, log } = writeAttack(dir);
  html = path.join(dir, 'report.html');
  const r = runPban(['report', '-c', config, '--html', html, log]);
  assert.equal(r.status, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Screenshot of the page at a width, with a private profile and nothing that goes online. */
async function screenshot(width: number, height: number): Promise<Buffer> {
  const png = path.join(dir, `shot-${width}.png`);
  const profile = mkdtempSync(path.join(dir, 'profile-'));
  await run(findCommand('chromium')!, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-default-apps', '--disable-extensions', '--hide-scrollbars',
    // The browser's own clock check asks Google for the time: not the page's doing, and off.
    '--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate',
    // Any name lookup fails and every connection goes to a proxy that does not exist:
    // even a URL we missed could not fetch anything.
    '--host-resolver-rules=MAP * ~NOTFOUND', '--proxy-server=127.0.0.1:9', '--proxy-bypass-list=<-loopback>',
    `--user-data-dir=${profile}`, `--screenshot=${png}`, `--window-size=${width},${height}`,
    `file://${html}`,
  ], { timeout: 120_000 });
  return readFileSync(png);
}

test('the page is self-contained: no URL, no script, a viewport, hostile text escaped', () => {
  const text = readFileSync(html, 'utf8');
  assert.doesNotMatch(text, /https?:|\/\/[a-z0-9]|url\(|@import|<script|<link|<img|<iframe|src=|href=/i);
  assert.match(text, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  assert.match(text, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/);
  assert.ok(!text.includes(HOSTILE_NAME));
  assert.ok(text.includes('&lt;script&gt;alert(&quot;x&quot;)&amp;&#39;&lt;/script&gt;'));
  assert.ok(!text.includes('\x1b'), 'control characters are shown escaped');
  assert.ok(text.includes('evil\\x1b[31mred'));
  assert.ok(text.includes('<svg'), 'charts are inline SVG');
});

for (const [width, height] of [[1000, 2600], [412, 4200]] as const) {
  test(`Chromium draws the charts at ${width} px wide`, async () => {
    const img = decodePng(await screenshot(width, height));
    assert.equal(img.width, width);
    assert.ok(brightnessVariance(img) > 100, 'the screenshot is not blank');
    // Each threshold is above what the colour's legend square takes (12 px square): columns.
    // The timeline: sasl is the first series, relay the second.
    assert.ok(countColor(img, PALETTE[0]!) > 1000, `timeline sasl columns drawn (${countColor(img, PALETTE[0]!)} px)`);
    assert.ok(countColor(img, PALETTE[1]!) > 500, `timeline relay column drawn (${countColor(img, PALETTE[1]!)} px)`);
    // Bans per hour: one address ban and one network ban in the same hour.
    assert.ok(countColor(img, BAN_COLORS.address) > 500, `address-ban column drawn (${countColor(img, BAN_COLORS.address)} px)`);
    assert.ok(countColor(img, BAN_COLORS.network) > 500, `network-ban column drawn (${countColor(img, BAN_COLORS.network)} px)`);
    // The share bars: 6 of 7 clients, 2 of 3 connections hostile.
    assert.ok(countColor(img, SHARE_COLORS.hostile) > 1000, 'hostile share drawn');
    assert.ok(countColor(img, SHARE_COLORS.rest) > 100, 'the rest of the traffic drawn');
  });
}

test('nothing was left behind but our own files', () => {
  assert.ok(readdirSync(dir).includes('report.html'));
});
