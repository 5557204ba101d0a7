// `pban report`: who is attacking, how and since when, from a log (through the config's jails,
// by the same pass as `pban replay`), from the store, or from the running daemon's store.
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { UsageError, PbanError } from '../errors.js';
import { DEFAULT_CONFIG } from './socket-path.js';
import { paletteFor } from './format/color.js';
import { ProgressLine, progressWanted } from './format/progress.js';
import type { Report } from '../report/model.js';

interface ReportFlags {
  config: string;
  jail?: string;
  since?: string;
  until?: string;
  json?: boolean;
  html?: string;
  top: string;
  store?: boolean;
  daemon?: boolean;
  socket?: string;
  ascii?: boolean;
}

export function reportCommand(): Command {
  const cmd = new Command('report')
    .description('show the attack: top addresses and networks, failures per kind over time, bans per hour, the hostile share of the traffic, and who is near a ban; from logs (through the config\'s jails, as replay), the store, or the running daemon')
    .argument('[log...]', 'log files to read in order (- for stdin); none: --store or --daemon')
    .addOption(new Option('-c, --config <file>', 'config file').default(DEFAULT_CONFIG))
    .option('--jail <name>', 'only this jail (default: every enabled jail)')
    .option('--since <time>', 'only from this time: 2026-11-27T14:00 (UTC unless a zone is given) or a duration before now (2h, 1d)')
    .option('--until <time>', 'only before this time (same forms)')
    .option('--json', 'the report as one JSON object (stable, see docs/cli.md)')
    .option('--html <file>', 'also write the report as one self-contained HTML page (inline CSS and SVG, no external URL)')
    .option('--top <n>', 'rows per table', '10')
    .option('--store', 'read the store of the config ([pban] database), read only, instead of logs')
    .option('--daemon', 'ask the running daemon (control socket) for its store and read that, read only')
    .option('--socket <path>', 'control socket for --daemon (overrides the config)')
    .option('--ascii', 'plain ASCII charts even on a UTF-8 terminal')
    .addHelpText(
      'after',
      `
Examples:
  pban report -c /etc/pban/pban.toml /var/log/mail.log
  pban report -c /etc/pban/pban.toml --since 6h --html /tmp/attack.html /var/log/mail.log
  pban report --daemon --json | jq .nearThreshold`,
    );
  return cmd.action(async (logs: string[], flags: ReportFlags) => {
    const sources = (logs.length > 0 ? 1 : 0) + (flags.store ? 1 : 0) + (flags.daemon ? 1 : 0);
    if (sources !== 1) throw new UsageError('report: give log files, or --store, or --daemon (exactly one of them)');
    const top = Number(flags.top);
    if (!Number.isInteger(top) || top < 1 || top > 10_000) throw new UsageError(`report: --top must be a whole number from 1 to 10000, got "${flags.top}"`);
    const [{ loadFullConfigWithFilters }, { parseReportTime }] = await Promise.all([import('./config-load.js'), import('../report/period.js')]);
    const now = Date.now();
    const time = (name: string, text: string | undefined): number | null => {
      if (text === undefined) return null;
      const t = parseReportTime(text, now);
      if ('error' in t) throw new UsageError(`report: --${name}: ${t.error}`);
      return t.ms;
    };
    const since = time('since', flags.since);
    const until = time('until', flags.until);
    if (since !== null && until !== null && since >= until) throw new UsageError('report: --since must be before --until');
    const { config, systemZoneFilters } = await loadFullConfigWithFilters(flags.config);
    if (flags.jail !== undefined && !config.jails.some((j) => j.name === flags.jail)) {
      throw new UsageError(`no jail named "${flags.jail}" in ${config.file} (jails: ${config.jails.map((x) => x.name).join(', ') || 'none'})`);
    }
    const filters = config.pban.timezone === undefined ? systemZoneFilters : undefined;
    const common = { jail: flags.jail, now, since, until, top, filters };
    let report: Report;
    if (logs.length > 0) {
      const [{ reportFromLogs }, { totalBytes }] = await Promise.all([import('../report/from-log.js'), import('./replay.js')]);
      const progress = progressWanted({ stderrIsTTY: process.stderr.isTTY === true, json: flags.json === true, stdoutLive: false, term: process.env['TERM'] })
        ? new ProgressLine(process.stderr, totalBytes(logs))
        : undefined;
      try {
        report = reportFromLogs(config, logs, { ...common, onProgress: progress && ((l, b) => progress.update(l, b)) });
      } finally {
        progress?.done();
      }
    } else {
      const { reportFromStore } = await import('../report/from-store.js');
      let database = config.pban.database;
      if (flags.daemon) {
        const [{ request }, { resolveSocketPath }] = await Promise.all([import('../control/client.js'), import('./socket-path.js')]);
        const socketPath = await resolveSocketPath({ config: flags.config, socket: flags.socket, configGiven: cmd.getOptionValueSource('config') === 'cli' });
        const status = (await request({ socketPath }, 'status', {})) as { store?: { path: string } };
        if (status.store === undefined) throw new PbanError('report.noStore', `the daemon at ${socketPath} does not say where its store is (an older pban): use --store`);
        database = status.store.path;
      }
      report = reportFromStore(config, { ...common, database, kind: flags.daemon ? 'daemon' : 'store' });
    }
    if (flags.html !== undefined) {
      const { renderHtml } = await import('../report/html.js');
      try {
        writeFileSync(flags.html, renderHtml(report));
      } catch (e) {
        throw new PbanError('report.write', `${flags.html}: cannot write the HTML report: ${(e as Error).message}`);
      }
    }
    if (flags.json) {
      process.stdout.write(JSON.stringify(report) + '\n');
      return;
    }
    const [{ renderTerminal }, { utf8Locale }] = await Promise.all([import('../report/terminal.js'), import('../report/charts-text.js')]);
    process.stdout.write(renderTerminal(report, { unicode: flags.ascii !== true && utf8Locale(process.env), bold: paletteFor(process.stdout).bold }));
    if (flags.html !== undefined) process.stderr.write(`pban: wrote ${flags.html}\n`);
  });
}
