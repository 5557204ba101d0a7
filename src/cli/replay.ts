// `pban replay -c CONFIG LOG…`: what would the config have done with these logs?
import { Command, Option } from 'commander';
import { statSync } from 'node:fs';
import type { ReplayEvent, ReplayResult } from '../replay.js';
import { DEFAULT_CONFIG } from './socket-path.js';
import { renderTable } from './format/table.js';
import { paletteFor } from './format/color.js';
import { formatDuration } from './format/time.js';
import { ProgressLine, expectedBytes, progressWanted } from './format/progress.js';
import { renderTraceLines } from './format/why.js';
import { traceEntry } from '../control/why-json.js';
import { displayCidr } from './format/target-text.js';

interface ReplayFlags {
  config: string;
  jail?: string;
  json?: boolean;
  database?: string;
  explain?: boolean;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The stable JSON form of one event (documented in docs/cli.md). */
export function eventJson(e: ReplayEvent): string {
  const base = { event: e.event, jail: e.jail, target: e.target, time: iso(e.time), until: iso(e.until), failures: e.failures, ban_number: e.banNumber };
  // With --explain, a ban also carries its kinds and lines (docs/cli.md).
  if (e.lines === undefined) return JSON.stringify(base);
  return JSON.stringify({ ...base, kinds: e.kinds ?? [], lines: e.lines.map((l) => ({ ...traceEntry(l), time: iso(l.time) })) });
}

/** `--explain`: each ban, then the lines that led to it. */
export function renderExplain(r: ReplayResult): string {
  const out: string[] = [];
  for (const e of r.events) {
    if (e.event !== 'ban' || e.lines === undefined) continue;
    const kinds = e.kinds !== undefined && e.kinds.length > 0 ? `, kinds ${e.kinds.join(', ')}` : '';
    out.push(`\nban ${displayCidr(e.target)} in ${e.jail} at ${iso(e.time)!.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}: ${e.kind}, ${e.failures} failures${kinds}, ban #${e.banNumber}\n`);
    out.push(renderTraceLines(e.lines.map(traceEntry), '  '));
  }
  return out.join('');
}

function renderEvents(r: ReplayResult, bold: (s: string) => string): string {
  const rows = r.events.map((e) => [
    iso(e.time)!.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    e.event,
    e.jail,
    e.target,
    e.kind,
    e.until === null ? 'permanent' : e.event === 'ban' ? formatDuration(e.until - e.time) : '',
    String(e.failures),
    String(e.banNumber),
  ]);
  const table = renderTable(
    [{ header: 'TIME (UTC)' }, { header: 'EVENT' }, { header: 'JAIL' }, { header: 'TARGET' }, { header: 'KIND' }, { header: 'FOR' }, { header: 'FAILURES', align: 'right' }, { header: 'BAN#', align: 'right' }],
    rows,
    bold,
  );
  const lines = [rows.length > 0 ? table : 'no bans\n'];
  for (const j of r.jails) lines.push(`jail ${j.name} (${j.filter}): ${j.matched} failures matched, ${j.bans} bans, ${j.unbans} unbans\n`);
  lines.push(`${r.lines} lines read\n`);
  return lines.join('');
}

/** What the logs add up to, when every one is a regular file (stdin from a pipe: unknown). */
export function totalBytes(logs: readonly string[]): number | null {
  let total = 0;
  for (const log of logs) {
    let size: number | null = null;
    if (log === '-') size = expectedBytes(0);
    else {
      try {
        const st = statSync(log);
        size = st.isFile() ? st.size : null;
      } catch {
        // replay reports a missing file itself
      }
    }
    if (size === null) return null;
    total += size;
  }
  return total;
}

export function replayCommand(): Command {
  return new Command('replay')
    .description('run log files through the jails of a config offline: the lines\' own timestamps are the clock, no action runs, and every ban and unban is printed')
    .argument('<log...>', 'log files to replay in order (- for stdin)')
    .addOption(new Option('-c, --config <file>', 'config file').default(DEFAULT_CONFIG))
    .option('--jail <name>', 'replay only this jail (default: every enabled jail)')
    .option('--json', 'one JSON object per event on stdout, in time order')
    .option('--database <file>', 'keep the store in this SQLite file (default: a temporary one)')
    .option('--explain', 'print the matched lines behind each ban (with --json: "kinds" and "lines" on each ban)')
    .addHelpText(
      'after',
      `
Examples:
  pban replay -c /etc/pban/pban.toml /var/log/mail.log.1 /var/log/mail.log
  pban replay -c jail.example.toml --jail postfix --json /var/log/mail.log | jq .
  pban replay -c jail.example.toml --explain /var/log/mail.log

JSON events: {"event":"ban"|"unban","jail","target":"<addr>/<prefix>","time":"<ISO UTC>","until":"<ISO UTC>"|null,"failures","ban_number"}`,
    )
    .action(async (logs: string[], flags: ReplayFlags) => {
      const [{ loadFullConfigWithFilters }, { replay }] = await Promise.all([import('./config-load.js'), import('../replay.js')]);
      const { config, systemZoneFilters } = await loadFullConfigWithFilters(flags.config);
      // The check compiled every filter in the system zone; with that zone they are reused.
      const filters = config.pban.timezone === undefined ? systemZoneFilters : undefined;
      const progress = progressWanted({ stderrIsTTY: process.stderr.isTTY === true, json: flags.json === true, stdoutLive: false, term: process.env['TERM'] })
        ? new ProgressLine(process.stderr, totalBytes(logs))
        : undefined;
      let result: ReplayResult;
      try {
        result = replay(config, logs, { jail: flags.jail, database: flags.database, filters, explain: flags.explain === true, onProgress: progress && ((lines, bytes) => progress.update(lines, bytes)) });
      } finally {
        progress?.done();
      }
      if (flags.json) {
        const out: string[] = result.events.map(eventJson);
        process.stdout.write(out.length > 0 ? out.join('\n') + '\n' : '');
      } else {
        process.stdout.write(renderEvents(result, paletteFor(process.stdout).bold));
        if (flags.explain) process.stdout.write(renderExplain(result));
      }
    });
}
