// The report as one self-contained HTML page: inline CSS, charts drawn here as inline SVG, no
// script and no external URL of any kind (a Content-Security-Policy forbids fetching anything
// too). Readable on a phone: a viewport, tables that scroll sideways, charts that scale.
// Pure. Every text from a log goes through escapeHtml, and so does everything else printed.
import type { Report } from './model.js';
import { count, displayCidr, kindList, percent, stepName, utcMinute } from './format.js';
import { escapeHtml as h } from './text-safety.js';
import { missingText } from './terminal.js';

/** Colours for the kinds' series, in order; then they repeat. */
export const PALETTE = ['#e63946', '#2a9d8f', '#f4a261', '#264653', '#a7c957', '#4cc9f0', '#ff006e', '#8d99ae', '#ffb703', '#6a4c93', '#bc6c25', '#606c38', '#00b4d8', '#b5179e'];
/** The bans chart's colours, and the share bars': none of them is in PALETTE. */
export const BAN_COLORS = { address: '#0b5cad', network: '#7b2cbf', manual: '#495057' } as const;
export const SHARE_COLORS = { hostile: '#c1121f', rest: '#cfe8d7' } as const;

const CSS = `
*{box-sizing:border-box}
body{margin:0;padding:12px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;background:#fff}
main{max-width:1000px;margin:0 auto}
h1{font-size:1.4em;margin:.2em 0}
h2{font-size:1.1em;margin:1.4em 0 .4em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#555;font-size:.9em}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:10px 0}
.card{flex:1 1 140px;border:1px solid #ddd;border-radius:8px;padding:8px 10px}
.card b{display:block;font-size:1.4em}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.t{white-space:normal;overflow-wrap:anywhere;min-width:12em}
svg{width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:.85em;margin:4px 0}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border-radius:2px}
.note{color:#8a6d00;font-size:.9em}
.axis{display:flex;justify-content:space-between;font-size:.8em;color:#555;margin:2px 0 0}
.caption{margin:2px 0 10px;font-size:.9em}
.empty{color:#777}
`;

function table(headers: readonly (readonly [string, 'n' | '' | 't'])[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '<p class="empty">none</p>';
  const th = headers.map(([x, c]) => `<th${c === 'n' ? ' class="n"' : ''}>${h(x)}</th>`).join('');
  // Cells are escaped by the caller's functions below: every cell goes through h() here.
  const body = rows.map((r) => '<tr>' + r.map((cell, i) => `<td${headers[i]?.[1] ? ` class="${headers[i]![1]}"` : ''}>${h(cell)}</td>`).join('') + '</tr>').join('\n');
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(1));

/** The smallest of 1, 2, 4, 5 times a power of ten that is at least `x`: the chart's top. */
export function niceCeil(x: number): number {
  const m = 10 ** Math.floor(Math.log10(Math.max(1, x)));
  for (const f of [1, 2, 4, 5, 10]) if (f * m >= x) return f * m;
  return 10 * m;
}

/** Stacked columns: one per bucket, one colour per series. */
export function stackedColumns(
  series: readonly { readonly label: string; readonly color: string; readonly values: readonly number[] }[],
  labels: { readonly start: string; readonly end: string; readonly title: string },
): string {
  const W = 720;
  const H = 200;
  const left = 76;
  const bottom = 2;
  const top = 4;
  const n = series.reduce((m, s) => Math.max(m, s.values.length), 1);
  const totals = Array.from({ length: n }, (_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const max = niceCeil(totals.reduce((m, x) => Math.max(m, x), 1));
  const plotW = W - left - 6;
  const plotH = H - top - bottom;
  const colW = plotW / n;
  const out: string[] = [];
  out.push(`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${h(labels.title)}">`);
  out.push(`<rect x="${left}" y="${top}" width="${fmt(plotW)}" height="${plotH}" fill="#fafafa" stroke="#ddd"/>`);
  for (const tick of Number.isInteger(max / 2) ? [max / 2, max] : [max]) {
    const y = top + plotH - (plotH * tick) / max;
    // (the label sits under its line, inside the plot, so the top one is not cut off)
    out.push(`<line x1="${left}" x2="${W - 6}" y1="${fmt(y)}" y2="${fmt(y)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${left - 6}" y="${fmt(y + 18)}" text-anchor="end" font-size="22" fill="#555">${h(count(tick))}</text>`);
  }
  for (let i = 0; i < n; i++) {
    let y = top + plotH;
    for (const s of series) {
      const v = s.values[i] ?? 0;
      if (v <= 0) continue;
      const bh = (v / max) * plotH;
      y -= bh;
      out.push(`<rect x="${fmt(left + i * colW + colW * 0.08)}" y="${fmt(y)}" width="${fmt(Math.max(0.5, colW * 0.84))}" height="${fmt(Math.max(0.5, bh))}" fill="${s.color}"><title>${h(`${s.label}: ${count(v)}`)}</title></rect>`);
    }
  }
  out.push('</svg>');
  // The time axis is HTML text under the chart: SVG text shrinks with the chart on a phone.
  out.push(`<div class="axis"><span>${h(labels.start)}</span><span>${h(labels.end)}</span></div>`);
  return out.join('');
}

/** One horizontal bar split in two: the hostile part and the rest. */
export function shareBar(label: string, part: number, whole: number): string {
  const W = 720;
  const share = whole > 0 ? part / whole : 0;
  const w = Math.round(share * (W - 2) * 10) / 10;
  return (
    `<svg viewBox="0 0 ${W} 28" role="img" aria-label="${h(label)}">` +
    `<rect x="1" y="4" width="${W - 2}" height="22" rx="4" fill="${SHARE_COLORS.rest}"/>` +
    (w > 0 ? `<rect x="1" y="4" width="${fmt(Math.max(1, w))}" height="22" rx="4" fill="${SHARE_COLORS.hostile}"/>` : '') +
    '</svg>' +
    `<p class="caption">${h(`${label}: ${count(part)} of ${count(whole)} (${percent(whole > 0 ? share : null)}) hostile`)}</p>`
  );
}

function legend(items: readonly { label: string; color: string }[]): string {
  return `<div class="legend">${items.map((x) => `<span><i style="background:${x.color}"></i>${h(x.label)}</span>`).join('')}</div>`;
}

export function renderHtml(r: Report): string {
  const t = r.totals;
  const bans = t.bans.address + t.bans.network + t.bans.manual;
  const from = r.since ?? r.first;
  const to = r.until ?? r.last;
  const prefixes = `/${r.prefixes.ipv4}, /${r.prefixes.ipv6}`;
  const src = r.source;
  const sourceText = src.kind === 'log' ? `${(src.files ?? []).join(', ')} (${count(src.lines ?? 0)} lines)` : `${src.kind === 'daemon' ? "the running daemon's store" : 'store'} ${src.database ?? ''}`;
  const parts: string[] = [];
  parts.push('<!DOCTYPE html>');
  parts.push('<html lang="en"><head><meta charset="utf-8">');
  parts.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  parts.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
  parts.push(`<title>${h(`pban report, ${from === null ? 'no failures' : utcMinute(from)}`)}</title>`);
  parts.push(`<style>${CSS}</style></head><body><main>`);
  parts.push(`<h1>pban report</h1>`);
  parts.push(`<p class="meta">${h(sourceText)}<br>${h(from === null || to === null ? 'no failures' : `${utcMinute(from)} to ${utcMinute(to)} UTC`)}; generated ${h(utcMinute(r.generatedAt))} UTC</p>`);
  for (const n of src.notes) parts.push(`<p class="note">${h(n)}</p>`);
  const tr = r.traffic;
  const card = (value: string, label: string): string => `<div class="card"><b>${h(value)}</b>${h(label)}</div>`;
  parts.push('<div class="cards">' +
    card(count(t.failures), 'failures') +
    card(count(t.addresses), 'failing addresses') +
    card(count(t.networks), `networks (${prefixes})`) +
    card(count(bans), `bans (${count(t.bans.address)} addresses, ${count(t.bans.network)} networks)`) +
    card(percent(tr.hostileClientShare), 'of clients hostile') +
    (tr.connections ? card(percent(tr.hostileConnectionShare), 'of smtpd connections hostile') : '') +
    '</div>');

  parts.push('<h2 id="share">Hostile share of the traffic</h2>');
  parts.push(shareBar('clients', tr.hostileClients, tr.clients));
  if (tr.connections) parts.push(shareBar('smtpd connections', tr.hostileConnections ?? 0, tr.connections));
  parts.push('<p class="meta">A client is an address that opened an smtpd session or that a filter matched; it is hostile when a filter matched it. A connection is hostile when its client is.</p>');

  parts.push('<h2 id="timeline">Failures over time, by kind</h2>');
  if (r.timeline === null) parts.push('<p class="empty">no failures</p>');
  else {
    const tl = r.timeline;
    const series = tl.series.map((s, i) => ({ label: s.kind, color: PALETTE[i % PALETTE.length]!, values: s.counts }));
    parts.push(legend(series));
    parts.push(`<div class="chart" id="chart-timeline">${stackedColumns(series, { start: `${utcMinute(tl.start)} UTC`, end: utcMinute(tl.start + tl.buckets * tl.bucketMs), title: `failures per ${stepName(tl.bucketMs)}` })}</div>`);
    parts.push(`<p class="meta">one column per ${h(stepName(tl.bucketMs))}</p>`);
  }

  parts.push('<h2 id="bans">Bans per hour</h2>');
  if (r.bansPerHour === null || bans === 0) parts.push('<p class="empty">no bans</p>');
  else {
    const hours = r.bansPerHour.hours;
    const series = [
      { label: 'address bans', color: BAN_COLORS.address, values: hours.map((x) => x.address) },
      { label: 'network bans', color: BAN_COLORS.network, values: hours.map((x) => x.network) },
      { label: 'manual bans', color: BAN_COLORS.manual, values: hours.map((x) => x.manual) },
    ].filter((s) => s.values.some((v) => v > 0));
    parts.push(legend(series));
    parts.push(`<div class="chart" id="chart-bans">${stackedColumns(series, { start: `${utcMinute(hours[0]!.time)} UTC`, end: utcMinute(hours[hours.length - 1]!.time + 3_600_000), title: 'bans per hour' })}</div>`);
  }

  parts.push('<h2 id="kinds">Failures by kind</h2>');
  parts.push(table([['kind', ''], ['failures', 'n'], ['addresses', 'n'], ['networks', 'n'], ['worst addresses', 't']],
    r.kinds.map((k) => [k.kind, count(k.failures), count(k.addresses), count(k.networks), k.top.map((x) => `${x.address} (${count(x.failures)})`).join(', ')])));

  parts.push('<h2 id="addresses">Top addresses</h2>');
  parts.push(table([['address', ''], ['failures', 'n'], ['kinds', 't'], ['bans', 'n'], ['first (UTC)', ''], ['last (UTC)', ''], ['name', 't']],
    r.addresses.map((a) => [a.address, count(a.failures), kindList(a.kinds), count(a.bans), utcMinute(a.first), utcMinute(a.last), a.name ?? ''])));

  parts.push(`<h2 id="networks">Top networks (${h(prefixes)})</h2>`);
  parts.push(table([['network', ''], ['failures', 'n'], ['addresses', 'n'], ['kinds', 't'], ['bans', 'n'], ['last (UTC)', '']],
    r.networks.map((n) => [n.network, count(n.failures), count(n.addresses), kindList(n.kinds), count(n.bans), utcMinute(n.last)])));

  if (r.users.length > 0) {
    parts.push('<h2 id="users">User names tried</h2>');
    parts.push(table([['user', 't'], ['failures', 'n'], ['addresses', 'n']], r.users.map((u) => [u.user, count(u.failures), count(u.addresses)])));
  }

  parts.push('<h2 id="near">Near the threshold: not banned yet at the current settings</h2>');
  const near = [...r.nearThreshold.networks, ...r.nearThreshold.addresses];
  parts.push(near.length === 0 ? '<p class="empty">nothing at half its threshold or more</p>' : table([['jail', ''], ['target', ''], ['failures', 'n'], ['addresses', 'n'], ['missing', 't']],
    near.map((x) => [x.jail, displayCidr(x.target), `${count(x.failures)}/${count(x.threshold)}`, x.minAddresses > 1 ? `${count(x.addresses)}/${count(x.minAddresses)}` : '', missingText(x.missing, x.addresses, x.minAddresses)])));
  parts.push('</main></body></html>\n');
  return parts.join('\n');
}
