// Human renderings of the daemon's replies. Pure: data, `now` and a palette in, text out.
// Scripts should use --json; these layouts may change.
import { displayCidr } from './target-text.js';
import type { BannedEntry, DaemonStatus, JailStatus, ReloadReply, UnbanReply, VersionReply } from '../../control/types.js';
import type { Palette } from './color.js';
import { renderTable } from './table.js';
import { formatDuration, formatExpiry, formatTimestamp } from './time.js';

export function renderDaemonStatus(s: DaemonStatus, c: Palette): string {
  const out: string[] = [];
  out.push(`${c.bold('pban')} ${s.version}, pid ${s.pid}, up ${formatDuration(s.uptimeMs)}`);
  if (s.state === 'starting') out.push(c.yellow('Starting: restoring jails and re-applying bans; the counts below are not complete yet.'));
  if (s.state === 'stopping') out.push(c.yellow('Stopping.'));
  out.push(`Lines read: ${s.linesRead} (${s.linesPerSecond.toFixed(1)}/s)`);
  out.push(s.health.ok ? `Health: ${c.green('ok')}` : `Health: ${c.red('PROBLEMS')}`);
  for (const p of s.health.problems) out.push(`  - ${p}`);
  if (s.store) out.push(`Store: ${s.store.path} ${s.store.ok ? c.green('ok') : `${c.red('FAILING')}: ${s.store.lastError ?? ''}`}`);
  out.push('');
  if (s.jails.length === 0) {
    out.push('No jails.');
    return out.join('\n') + '\n';
  }
  const rows = s.jails.map((j) => [
    j.name,
    j.filter,
    String(j.currentlyFailing),
    String(j.totalFailed),
    String(j.currentlyBanned.addresses),
    String(j.currentlyBanned.networks),
    String(j.totalBanned),
    j.sources.join(' '),
  ]);
  out.push(
    renderTable(
      [
        { header: 'JAIL' },
        { header: 'FILTER' },
        { header: 'FAILING', align: 'right' },
        { header: 'FAILED', align: 'right' },
        { header: 'BANNED IPS', align: 'right' },
        { header: 'BANNED NETS', align: 'right' },
        { header: 'TOTAL BANNED', align: 'right' },
        { header: 'SOURCES' },
      ],
      rows,
      c.bold,
    ).trimEnd(),
  );
  out.push('');
  const actionRows: string[][] = [];
  for (const j of s.jails) {
    for (const a of j.actions) {
      actionRows.push([j.name, a.name, a.ok ? c.green('ok') : c.red('FAILING'), a.lastError ?? '']);
    }
  }
  if (actionRows.length > 0) {
    out.push(renderTable([{ header: 'JAIL' }, { header: 'ACTION' }, { header: 'HEALTH' }, { header: 'LAST ERROR' }], actionRows, c.bold).trimEnd());
  }
  // Rare and worth a look, so a line of its own rather than a column of zeros.
  for (const j of s.jails) {
    const n = j.futureDated ?? 0;
    if (n > 0) out.push(c.red(`${j.name}: ${n} ${n === 1 ? 'failure was' : 'failures were'} dated in the future (counted at the wall clock): check the senders' clocks and [pban] timezone`));
  }
  return out.join('\n') + '\n';
}

/** fail2ban's `status JAIL` tree (TAB after each colon), networks in CIDR. */
export function renderJailStatus(s: JailStatus): string {
  return [
    `Status for the jail: ${s.name}`,
    '|- Filter',
    `|  |- Filter:\t${s.filter.name}`,
    `|  |- Currently failed:\t${s.filter.currentlyFailed}`,
    `|  |- Total failed:\t${s.filter.totalFailed}`,
    `|  \`- File list:\t${s.filter.sources.join(' ')}`,
    '`- Actions',
    `   |- Currently banned:\t${s.actions.currentlyBanned}`,
    `   |- Total banned:\t${s.actions.totalBanned}`,
    `   \`- Banned IP list:\t${s.actions.banned.map(displayCidr).join(' ')}`,
  ].join('\n') + '\n';
}

export function renderBanned(bans: readonly BannedEntry[], now: number, c: Palette): string {
  if (bans.length === 0) return 'No active bans.\n';
  const rows = bans.map((b) => [
    displayCidr(b.target),
    b.jail,
    b.kind,
    String(b.failures),
    formatTimestamp(b.bannedAt),
    formatExpiry(b.expiresAt, now),
    String(b.banNumber),
  ]);
  return renderTable(
    [
      { header: 'TARGET' },
      { header: 'JAIL' },
      { header: 'KIND' },
      { header: 'FAILURES', align: 'right' },
      { header: 'BANNED AT' },
      { header: 'EXPIRES' },
      { header: 'BAN #', align: 'right' },
    ],
    rows,
    c.bold,
  );
}

export function renderBanReply(b: BannedEntry): string {
  // The length as the daemon set it, not relative to our clock: "for 2h", never "for 1h 59m".
  const until = b.expiresAt === null ? 'permanently' : `until ${formatTimestamp(b.expiresAt)} (for ${formatDuration(b.expiresAt - b.bannedAt)})`;
  return `banned ${displayCidr(b.target)} in ${b.jail} ${until}, ban #${b.banNumber}\n`;
}

export function renderUnbanReply(r: UnbanReply): string {
  const n = r.lifted.length;
  const lines = [`unbanned ${n} ${n === 1 ? 'ban' : 'bans'}`];
  for (const b of r.lifted.slice(0, 20)) lines.push(`  ${displayCidr(b.target)} (${b.jail})`);
  if (n > 20) lines.push(`  … and ${n - 20} more`);
  return lines.join('\n') + '\n';
}

export function renderReloadReply(r: ReloadReply): string {
  const lines = [`reloaded: ${r.jails.length} ${r.jails.length === 1 ? 'jail' : 'jails'} (${r.jails.join(', ')})`];
  if (r.added.length) lines.push(`added: ${r.added.join(', ')}`);
  if (r.removed.length || r.lifted > 0) lines.push(`removed: ${r.removed.join(', ') || 'none'} (${r.lifted} bans lifted)`);
  if (r.retired.length) lines.push(`retired: ${r.retired.join(', ')} (no longer in the config; ${r.kept.length} manual or permanent ${r.kept.length === 1 ? 'ban' : 'bans'} kept in force)`);
  return lines.join('\n') + '\n';
}

/** One line per ban a removed jail keeps in force, and how to lift them. */
export function renderKeptWarning(r: ReloadReply): string {
  const lines = r.kept.map((b) => `pban: kept in force: ${b.target} (jail ${b.jail}, ${b.kind}, ${b.expiresAt === null ? 'permanent' : `until ${formatTimestamp(b.expiresAt)}`})`);
  lines.push(`pban: lift them with \`pban unban --all --jail ${r.retired[0]}\` or \`pban reload --lift-removed\``);
  return lines.join('\n') + '\n';
}

export function renderVersion(cli: string, daemon: VersionReply): string {
  return `pban ${cli}\ndaemon ${daemon.version} (protocol ${daemon.protocol}, node ${daemon.node}, pid ${daemon.pid})\n`;
}
