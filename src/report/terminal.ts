// The report for a terminal: summary lines, tables, and character charts. Pure: the caller
// says whether the terminal takes Unicode and how to embolden headers. Log text (client and
// user names) goes through safeText.
import { renderTable } from '../cli/format/table.js';
import type { Report } from './model.js';
import { bar, sparkline } from './charts-text.js';
import { count, displayCidr, kindList, percent, stepName, utcMinute } from './format.js';
import { safeText } from '../safe-text.js';

export interface TerminalOptions {
  readonly unicode: boolean;
  readonly bold?: (s: string) => string;
}

const BAR_WIDTH = 40;

function period(r: Report): string {
  const from = r.since ?? r.first;
  const to = r.until ?? r.last;
  if (from === null || to === null) return 'no failures';
  return `${utcMinute(from)} to ${utcMinute(to)} UTC`;
}

function sourceLine(r: Report): string {
  const s = r.source;
  if (s.kind === 'log') return `${(s.files ?? []).map(safeText).join(', ')} (${count(s.lines ?? 0)} lines)`;
  return `${s.kind === 'daemon' ? 'the running daemon\'s store' : 'store'} ${safeText(s.database ?? '')}`;
}

export function renderTerminal(r: Report, opts: TerminalOptions): string {
  const bold = opts.bold ?? ((s: string) => s);
  const u = opts.unicode;
  const out: string[] = [];
  const heading = (s: string): void => {
    out.push('\n' + bold(s) + '\n');
  };
  const t = r.totals;
  out.push(`${bold('pban report')}: ${sourceLine(r)}, ${period(r)}\n`);
  for (const n of r.source.notes) out.push(`  note: ${n}\n`);
  const prefixes = `/${r.prefixes.ipv4}, /${r.prefixes.ipv6}`;
  out.push(`failures: ${count(t.failures)} from ${count(t.addresses)} addresses in ${count(t.networks)} networks (${prefixes})` +
    (t.whileBanned > 0 ? `; ${count(t.whileBanned)} of them while already banned` : '') + '\n');
  const bans = t.bans.address + t.bans.network + t.bans.manual;
  out.push(`bans: ${count(bans)} (${count(t.bans.address)} addresses, ${count(t.bans.network)} networks` + (t.bans.manual > 0 ? `, ${count(t.bans.manual)} manual` : '') + ')\n');
  const tr = r.traffic;
  let hostile = `hostile: ${count(tr.hostileClients)} of ${count(tr.clients)} clients (${percent(tr.hostileClientShare)})`;
  if (tr.connections === 0) hostile += '; no smtpd "connect from" line seen';
  else if (tr.connections !== null) hostile += `; ${count(tr.hostileConnections ?? 0)} of ${count(tr.connections)} smtpd connections (${percent(tr.hostileConnectionShare)})`;
  out.push(hostile + '\n');

  if (r.kinds.length > 0) {
    heading('Failures by kind');
    out.push(renderTable(
      [{ header: 'KIND' }, { header: 'FAILURES', align: 'right' }, { header: 'ADDRESSES', align: 'right' }, { header: 'NETWORKS', align: 'right' }, { header: 'WORST ADDRESSES' }],
      r.kinds.map((k) => [k.kind, count(k.failures), count(k.addresses), count(k.networks), k.top.map((x) => `${x.address} (${count(x.failures)})`).join(', ')]),
      bold,
    ));
  }

  if (r.timeline !== null) {
    const tl = r.timeline;
    heading(`Failures per ${stepName(tl.bucketMs)}, ${utcMinute(tl.start)} to ${utcMinute(tl.start + tl.buckets * tl.bucketMs)} UTC`);
    const width = Math.max(...tl.series.map((s) => s.kind.length));
    for (const s of tl.series) {
      const max = Math.max(...s.counts);
      out.push(`${s.kind.padEnd(width)} |${sparkline(s.counts, u)}| max ${count(max)}\n`);
    }
  }

  if (r.addresses.length > 0) {
    heading('Top addresses');
    out.push(renderTable(
      [{ header: 'ADDRESS' }, { header: 'FAILURES', align: 'right' }, { header: 'KINDS' }, { header: 'BANS', align: 'right' }, { header: 'FIRST (UTC)' }, { header: 'LAST (UTC)' }, { header: 'NAME' }],
      r.addresses.map((a) => [a.address, count(a.failures), kindList(a.kinds), count(a.bans), utcMinute(a.first), utcMinute(a.last), a.name === null ? '' : safeText(a.name)]),
      bold,
    ));
  }

  if (r.networks.length > 0) {
    heading(`Top networks (${prefixes})`);
    out.push(renderTable(
      [{ header: 'NETWORK' }, { header: 'FAILURES', align: 'right' }, { header: 'ADDRESSES', align: 'right' }, { header: 'KINDS' }, { header: 'BANS', align: 'right' }, { header: 'LAST (UTC)' }],
      r.networks.map((n) => [n.network, count(n.failures), count(n.addresses), kindList(n.kinds), count(n.bans), utcMinute(n.last)]),
      bold,
    ));
  }

  if (r.users.length > 0) {
    heading('User names tried');
    out.push(renderTable(
      [{ header: 'USER' }, { header: 'FAILURES', align: 'right' }, { header: 'ADDRESSES', align: 'right' }],
      r.users.map((x) => [safeText(x.user), count(x.failures), count(x.addresses)]),
      bold,
    ));
  }

  if (r.bansPerHour !== null && bans > 0) {
    heading('Bans per hour (UTC)');
    // Over two days of hours, only those with bans: a month would be 720 lines.
    const all = r.bansPerHour.hours;
    const hours = all.length > 48 ? all.filter((h) => h.address + h.network + h.manual > 0) : all;
    if (hours.length < all.length) out.push(`(${count(all.length - hours.length)} hours without bans left out)\n`);
    const max = hours.reduce((m, h) => Math.max(m, h.address + h.network + h.manual), 0);
    for (const h of hours) {
      const n = h.address + h.network + h.manual;
      const detail = n === 0 ? '' : ` ${count(n)}` + (h.network > 0 || h.manual > 0 ? ` (${count(h.address)} addr, ${count(h.network)} net${h.manual > 0 ? `, ${count(h.manual)} manual` : ''})` : '');
      out.push(`${utcMinute(h.time)} |${bar(n, max, BAR_WIDTH, u)}${detail}\n`);
    }
  }

  const near = r.nearThreshold;
  heading('Near the threshold: not banned yet at the current settings');
  if (near.networks.length === 0 && near.addresses.length === 0) out.push('nothing at half its threshold or more\n');
  else {
    out.push(renderTable(
      [{ header: 'JAIL' }, { header: 'TARGET' }, { header: 'FAILURES', align: 'right' }, { header: 'ADDRESSES', align: 'right' }, { header: 'MISSING' }],
      [...near.networks, ...near.addresses].map((x) => [
        x.jail,
        displayCidr(x.target),
        `${count(x.failures)}/${count(x.threshold)}`,
        x.minAddresses > 1 ? `${count(x.addresses)}/${count(x.minAddresses)}` : '',
        missingText(x.missing, x.addresses, x.minAddresses),
      ]),
      bold,
    ));
  }
  return out.join('');
}

export function missingText(failures: number, addresses: number, minAddresses: number): string {
  const parts: string[] = [];
  if (failures > 0) parts.push(`${failures} failure${failures === 1 ? '' : 's'}`);
  if (addresses < minAddresses) parts.push(`${minAddresses - addresses} more address${minAddresses - addresses === 1 ? '' : 'es'}`);
  return parts.join(' and ');
}
