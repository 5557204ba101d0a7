// `pban replay -c CONFIG LOG…`: what would the config have done with these logs?
import { Command, Option } from 'commander';
import { statSync } from 'node:fs';
import type { ReplayEvent, ReplayResult } from '../replay.js';
import { DEFAULT_CONFIG } from './socket-path.js';
import { renderTable } from './format/table.js';
import { paletteFor } from './format/color.js';
import { formatDuration } from './format/time.js';
import { ProgressLine, expectedBytes, progressWanted } from './format/progress.js';

interface ReplayFlags {
  config: string;
  jail?: string;
  json?: boolean;
  database?: string;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The stable JSON form of one event (documented in docs/cli.md). */
export function eventJson(e: ReplayEvent): string {
  return JSON.stringify({ event: e.event, jail: e.jail, target: e.target, time: iso(e.time), until: iso(e.until), failures: e.failures, ban_number: e.banNumber });
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
    .addHelpText(
      'after',
      `
Examples:
  pban replay -c /etc/pban/pban.toml /var/log/mail.log.1 /var/log/mail.log
  pban replay -c jail.example.toml --jail postfix --json /var/log/mail.log | jq .

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
        result = replay(config, logs, { jail: flags.jail, database: flags.database, filters, onProgress: progress && ((lines, bytes) => progress.update(lines, bytes)) });
      } finally {
        progress?.done();
      }
      if (flags.json) {
        const out: string[] = result.events.map(eventJson);
        process.stdout.write(out.length > 0 ? out.join('\n') + '\n' : '');
      } else {
        process.stdout.write(renderEvents(result, paletteFor(process.stdout).bold));
      }
    });
}
