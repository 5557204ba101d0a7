// `pban queue`: the Postfix queue seen through pban (counts, and which messages are backscatter),
// and `pban queue delete|hold|release` for a selection of it. The work is in src/queue/; this
// file gathers the inputs (postqueue, postcat, the daemon's bans, a log) and prints.
import { Command, Option } from 'commander';
import { PbanError, UsageError } from '../errors.js';
import type { Target } from '../events.js';
import { parseTarget } from '../cidr.js';
import { DEFAULT_CONFIG, resolveSocketPath } from './socket-path.js';
import { renderTable } from './format/table.js';
import { paletteFor, type Palette } from './format/color.js';
import { formatDuration } from './format/time.js';
import { safeText } from '../safe-text.js';
import { analyseMessage, summarise, type AnalysedMessage, type Hostiles, type QueueSummary } from '../queue/analyse.js';
import { listQueue, postsuper, readOrigins, type PostfixOptions } from '../queue/postfix.js';
import { parseSelector, select, type SelectorFlags } from '../queue/select.js';
import type { SuperOperation } from '../queue/postsuper.js';
import type { LineProblem } from '../queue/postqueue.js';

interface CommonFlags {
  configDir?: string;
  config: string;
  socket?: string;
  log?: string;
  json?: boolean;
}

interface ActionFlags extends CommonFlags, SelectorFlags {
  dryRun?: boolean;
  yes?: boolean;
}

/** Everything pban learnt about the queue in one run. */
interface QueueView {
  readonly messages: AnalysedMessage[];
  readonly problems: LineProblem[];
  /** Listed by postqueue, gone before they could be read. */
  readonly vanished: string[];
  /** What pban could not consult, and similar remarks for the reader. */
  readonly notes: string[];
  /** The -C/-c/--socket/--log options of this run, for a follow-up command that must see the same (" -C DIR --log FILE"). */
  readonly sameInputs: string;
  readonly now: number;
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option('-C, --config-dir <dir>', 'Postfix configuration directory (postqueue/postcat/postsuper -c), for another instance')
    .addOption(new Option('-c, --config <file>', 'pban config: its socket, database and filters').default(DEFAULT_CONFIG))
    .option('--socket <path>', 'pban control socket (overrides the config)')
    .option('--log <file>', 'mail log: clients the configured filters find failing in it count as hostile')
    .option('--json', 'print JSON (stable, see docs/cli.md)');
}

/** The active bans: the running daemon's, else its store read-only; a note says when neither could be read. */
async function bannedTargets(flags: CommonFlags, configGiven: boolean, now: number, notes: string[]): Promise<Target[]> {
  let socketPath: string;
  try {
    socketPath = await resolveSocketPath({ config: flags.config, socket: flags.socket, configGiven });
  } catch (e) {
    notes.push(`banned clients not checked: ${(e as Error).message}`);
    return [];
  }
  const { request } = await import('../control/client.js');
  try {
    const bans = await request({ socketPath, timeoutMs: 10_000 }, 'banned', {});
    const targets: Target[] = [];
    for (const b of bans) {
      const t = parseTarget(b.target);
      if (!('error' in t)) targets.push(t);
    }
    return targets;
  } catch (e) {
    if (!(e instanceof PbanError) || e.code !== 'control.notRunning') {
      notes.push(`banned clients from the store: the daemon did not answer (${(e as Error).message})`);
    }
  }
  // Not running: its store, read-only. The database path is in the config.
  try {
    const { loadConfig } = await import('../config/index.js');
    const config = loadConfig(flags.config);
    const { bannedFromStore } = await import('../queue/hostile.js');
    return bannedFromStore(config.pban.database, now);
  } catch (e) {
    notes.push(`banned clients not checked: pban is not running and its store could not be read (${(e as Error).message})`);
    return [];
  }
}

async function failedInLog(flags: CommonFlags, now: number): Promise<Map<string, number>> {
  if (flags.log === undefined) return new Map();
  const [{ loadFullConfigWithFilters }, { failuresInLog }, { loadFilter }] = await Promise.all([
    import('./config-load.js'),
    import('../queue/hostile.js'),
    import('../filters/index.js'),
  ]);
  const { config, systemZoneFilters } = await loadFullConfigWithFilters(flags.config);
  const specs = [...new Set(config.jails.filter((j) => j.enabled).map((j) => j.filter))];
  if (specs.length === 0) throw new PbanError('queue.noFilters', `${config.file}: no enabled jail, so no filter to read ${flags.log} with`);
  const filters = specs.map((s) => (config.pban.timezone === undefined ? systemZoneFilters.get(s) : undefined) ?? loadFilter(s, { timezone: config.pban.timezone, fail2banFilterDir: config.pban.fail2banFilterDir }));
  return failuresInLog(flags.log, filters, now);
}

async function gather(cmd: Command, flags: CommonFlags): Promise<QueueView> {
  const pf: PostfixOptions = { configDir: flags.configDir };
  const notes: string[] = [];
  // The log and the bans first: a bad --log or config fails before Postfix is asked anything.
  const now = Date.now();
  const failed = await failedInLog(flags, now);
  const banned = await bannedTargets(flags, cmd.getOptionValueSource('config') === 'cli', now, notes);
  const hostiles: Hostiles = { banned, failed };
  const listing = await listQueue(pf);
  if (listing.mailSystemDown) notes.push('Postfix is not running: postqueue read the queue files directly');
  const { origins, vanished } = await readOrigins(
    pf,
    listing.messages.map((m) => m.id),
  );
  const messages = listing.messages.filter((m) => !vanished.has(m.id)).map((m) => analyseMessage(m, origins.get(m.id), hostiles));
  if (vanished.size > 0) notes.push(`${vanished.size} messages left the queue while it was read (delivered, expired or deleted meanwhile)`);
  return { messages, problems: listing.problems, vanished: [...vanished], notes, now, sameInputs: sameInputs(cmd, flags) };
}

/** The options that decide what is flagged, as typed again (paths quoted when they need it). */
function sameInputs(cmd: Command, flags: CommonFlags): string {
  const quote = (v: string): string => (/^[\w./:@%+=,-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const parts: string[] = [];
  if (flags.configDir !== undefined) parts.push(`-C ${quote(flags.configDir)}`);
  if (cmd.getOptionValueSource('config') === 'cli') parts.push(`-c ${quote(flags.config)}`);
  if (flags.socket !== undefined) parts.push(`--socket ${quote(flags.socket)}`);
  if (flags.log !== undefined) parts.push(`--log ${quote(flags.log)}`);
  return parts.map((p) => ' ' + p).join('');
}

function reportProblems(view: QueueView): void {
  // One line per malformed postqueue line; the others were used.
  for (const p of view.problems) process.stderr.write(`pban: postqueue -j:${p.line}: ${safeText(p.message)} (line skipped)\n`);
}

// ---------------------------------------------------------------------------------------------
// JSON

const iso = (ms: number): string => new Date(ms).toISOString();

function messageJson(m: AnalysedMessage, now: number): object {
  return {
    id: m.id,
    queue: m.queue,
    arrival: iso(m.arrival),
    age_seconds: Math.max(0, Math.round((now - m.arrival) / 1000)),
    size: m.size,
    sender: m.sender,
    null_sender: m.nullSender,
    recipients: m.recipients.map((r) => ({ address: r.address, domain: r.domain, reason: r.reason ?? null, reason_class: r.reasonClass })),
    client: m.client,
    client_source: m.clientSource,
    backscatter: m.backscatter,
  };
}

function summaryJson(s: QueueSummary, view: QueueView): object {
  return {
    total: s.total,
    queues: s.queues,
    senders: s.senders.map((c) => ({ sender: c.key, messages: c.count })),
    recipient_domains: s.recipientDomains.map((c) => ({ domain: c.key, messages: c.count })),
    ages: s.ages.map((c) => ({ age: c.key, messages: c.count })),
    reasons: s.reasons.map((r) => ({ class: r.class, reason: r.reason, recipients: r.count })),
    clients: s.clients.map((c) => ({ client: c.key, messages: c.count })),
    backscatter: { messages: s.backscatter.total, why: s.backscatter.why },
    messages: view.messages.map((m) => messageJson(m, view.now)),
    malformed_lines: view.problems,
    vanished: view.vanished,
    notes: view.notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Tables

const TOP = 10;

function countTable(title: string, rows: readonly { key: string; count: number }[], p: Palette, all = false): string {
  if (rows.length === 0) return '';
  const shown = all ? rows : rows.slice(0, TOP);
  const more = rows.length - shown.length;
  const table = renderTable([{ header: title }, { header: 'MESSAGES', align: 'right' }], shown.map((r) => [safeText(r.key === '' ? '(none)' : r.key), String(r.count)]), p.bold);
  return '\n' + table + (more > 0 ? `… and ${more} more\n` : '');
}

const WHY_TEXT: Readonly<Record<string, string>> = {
  'bounce-to-dead-domain': 'bounces to domains that take no mail',
  'banned-client': 'from clients pban bans',
  'failed-client': 'from clients failing in the log',
};

function renderSummary(s: QueueSummary, view: QueueView, p: Palette): string {
  const out: string[] = [];
  const q = s.queues;
  out.push(`${p.bold('Postfix queue:')} ${s.total} messages (active ${q.active}, deferred ${q.deferred}, hold ${q.hold}, incoming ${q.incoming + q.maildrop})\n`);
  const why = Object.entries(s.backscatter.why)
    .filter(([, n]) => n > 0)
    .map(([w, n]) => `${n} ${WHY_TEXT[w]}`);
  out.push(`${p.bold('Backscatter:')} ${s.backscatter.total} messages${why.length > 0 ? ` (${why.join(', ')})` : ''}\n`);
  out.push(countTable('SENDER', s.senders, p));
  out.push(countTable('RECIPIENT DOMAIN', s.recipientDomains, p));
  out.push(countTable('AGE', s.ages, p, true));
  if (s.reasons.length > 0) {
    const shown = s.reasons.slice(0, TOP);
    out.push('\n' + renderTable([{ header: 'CLASS' }, { header: 'RECIPIENTS', align: 'right' }, { header: 'DEFERRAL REASON' }], shown.map((r) => [r.class, String(r.count), safeText(r.reason)]), p.bold));
    if (s.reasons.length > TOP) out.push(`… and ${s.reasons.length - TOP} more\n`);
  }
  out.push(countTable('CLIENT', s.clients, p));
  for (const n of view.notes) out.push(`\nnote: ${n}`);
  if (view.notes.length > 0) out.push('\n');
  if (s.backscatter.total > 0) out.push(`\nTo list the backscatter: pban queue delete --backscatter${safeText(view.sameInputs)} --dry-run\n`);
  return out.join('');
}

function renderMessages(messages: readonly AnalysedMessage[], now: number, p: Palette): string {
  const rows = messages.map((m) => {
    const firstReason = m.recipients.find((r) => r.reason !== undefined)?.reason ?? '';
    const rcpt = m.recipients.length === 0 ? '' : m.recipients[0]!.address + (m.recipients.length > 1 ? ` (+${m.recipients.length - 1})` : '');
    return [
      m.id,
      m.queue,
      formatDuration(now - m.arrival),
      safeText(m.nullSender ? '<>' : m.sender),
      safeText(rcpt),
      m.client ?? '',
      m.backscatter.join(',') || '-',
      safeText(firstReason.length > 60 ? firstReason.slice(0, 59) + '…' : firstReason),
    ];
  });
  return renderTable(
    [{ header: 'ID' }, { header: 'QUEUE' }, { header: 'AGE', align: 'right' }, { header: 'SENDER' }, { header: 'RECIPIENT' }, { header: 'CLIENT' }, { header: 'BACKSCATTER' }, { header: 'REASON' }],
    rows,
    p.bold,
  );
}

// ---------------------------------------------------------------------------------------------
// The commands

const VERB: Readonly<Record<SuperOperation, { word: string; done: string }>> = {
  delete: { word: 'Delete', done: 'deleted' },
  hold: { word: 'Hold', done: 'put on hold' },
  release: { word: 'Release', done: 'released' },
};

async function confirm(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

async function runOperation(cmd: Command, op: SuperOperation, flags: ActionFlags): Promise<void> {
  const selector = parseSelector(flags); // a usage mistake fails before Postfix is touched
  const view = await gather(cmd, flags);
  reportProblems(view);
  let chosen = select(selector, view.messages, view.now);
  // hold acts on messages not yet held, release only on held ones: the rest would be no-ops.
  if (op === 'hold') chosen = chosen.filter((m) => m.queue !== 'hold');
  if (op === 'release') chosen = chosen.filter((m) => m.queue === 'hold');
  const p = paletteFor(process.stdout);
  const verb = VERB[op];
  if (!flags.json) {
    for (const n of view.notes) process.stderr.write(`pban: note: ${n}\n`);
    if (chosen.length > 0) process.stdout.write(renderMessages(chosen, view.now, p));
  }
  if (chosen.length === 0 || flags.dryRun) {
    if (flags.json) process.stdout.write(JSON.stringify({ operation: op, dry_run: flags.dryRun === true, selected: chosen.map((m) => messageJson(m, view.now)), done: 0, gone: 0, failed: 0, notes: view.notes }) + '\n');
    else process.stdout.write(chosen.length === 0 ? 'no message matches\n' : `dry run: ${chosen.length} messages would be ${verb.done}\n`);
    return;
  }
  if (!flags.yes) {
    if (process.stdin.isTTY !== true || process.stderr.isTTY !== true) {
      throw new UsageError(`refusing to ${op} ${chosen.length} messages without confirmation: not a terminal (add --yes, or --dry-run to only list them)`);
    }
    if (!(await confirm(`${verb.word} these ${chosen.length} messages? [y/N] `))) throw new PbanError('queue.aborted', `nothing ${verb.done}`);
  }
  const ids = chosen.map((m) => m.id);
  const result = await postsuper({ configDir: flags.configDir }, op, ids);
  for (const w of result.warnings) process.stderr.write(`pban: ${safeText(w)}\n`);
  const notDone = ids.filter((id) => !result.done.has(id));
  // Not done: a message that left the queue meanwhile (delivered, expired) is no error; one that
  // is still there could not be handled.
  let failed: string[] = [];
  if (notDone.length > 0) {
    const present = new Map((await listQueue({ configDir: flags.configDir })).messages.map((m) => [m.id, m.queue]));
    failed = notDone.filter((id) => {
      const queue = present.get(id);
      if (queue === undefined) return false;
      return op === 'hold' ? queue !== 'hold' : op === 'release' ? queue === 'hold' : true;
    });
  }
  const gone = notDone.length - failed.length;
  if (flags.json) {
    process.stdout.write(JSON.stringify({ operation: op, dry_run: false, selected: chosen.map((m) => messageJson(m, view.now)), done: result.done.size, gone, failed: failed.length, failed_ids: failed, notes: view.notes }) + '\n');
  } else {
    process.stdout.write(`${result.done.size} messages ${verb.done}` + (gone > 0 ? `, ${gone} had already left the queue` : '') + (failed.length > 0 ? `, ${failed.length} could not be ${verb.done}: ${failed.join(' ')}` : '') + '\n');
  }
  if (failed.length > 0) process.exitCode = 1;
}

function operationCommand(op: SuperOperation, description: string): Command {
  const cmd = commonOptions(new Command(op).description(description))
    .option('--backscatter', 'messages pban flags as backscatter (see pban queue)')
    .option('--sender <address>', 'envelope sender: an address, @domain for any sender there, or "<>" for bounces')
    .option('--recipient-domain <domain>', 'messages with a recipient at this domain')
    .option('--client <address|network>', 'messages from this client address or network (for a bounce: the client of the bounced message)')
    .option('--older-than <duration>', 'messages that arrived longer ago than this (e.g. 2h, 3d)')
    .option('--reason <regex>', 'messages with a deferral reason matching this regular expression (case-insensitive)')
    .option('--dry-run', `only list what would be ${VERB[op].done}`)
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText(
      'after',
      `
Selectors combine (a message must match all of them); at least one is required.
Examples:
  $ pban queue ${op} --backscatter --dry-run
  $ pban queue ${op} --sender '<>' --reason 'Host or domain name not found' --yes
  $ pban queue ${op} --client 203.0.113.0/24 --older-than 1h`,
    );
  return cmd.action(async (flags: ActionFlags) => runOperation(cmd, op, flags));
}

export function queueCommand(): Command {
  // The summary is the default sub-command, so that the queue command itself takes no options:
  // with options on both, `pban queue delete -C DIR` would hand -C to `pban queue`.
  const show = commonOptions(new Command('show').description('summarise the queue and flag backscatter (the default: `pban queue` is `pban queue show`)')).addHelpText(
    'after',
    `
Backscatter: a bounce (null sender) whose recipient's domain does not take mail, or any message
that came from a client pban bans or that fails in --log.
Examples:
  $ pban queue
  $ pban queue --log /var/log/mail.log --json | jq .backscatter
  $ pban queue -C /etc/postfix-out`,
  );
  show.action(async (flags: CommonFlags) => {
    const view = await gather(show, flags);
    reportProblems(view);
    const summary = summarise(view.messages, view.now);
    if (flags.json) process.stdout.write(JSON.stringify(summaryJson(summary, view)) + '\n');
    else process.stdout.write(renderSummary(summary, view, paletteFor(process.stdout)));
  });
  return new Command('queue')
    .description('the Postfix queue: summarise it (by queue, sender, recipient domain, age, deferral reason, client) and flag backscatter; delete, hold or release a selection')
    .addCommand(show, { isDefault: true })
    .addCommand(operationCommand('delete', 'delete the selected messages from the queue (postsuper -d)'))
    .addCommand(operationCommand('hold', 'put the selected messages on hold (postsuper -h)'))
    .addCommand(operationCommand('release', 'release the selected held messages (postsuper -H)'));
}
