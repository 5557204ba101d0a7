// Reads and validates an action file (actions/*.toml). Every problem is reported as a
// ConfigError naming the file and, where it can be found, the line.
import { describeFileError, readSmallTextFile } from '../files.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ConfigError } from '../errors.js';
import { ACTIONS_DIR } from '../paths.js';
import { isPerKind, paramStrings, placeholders, type ParamScalar, type ParamValue } from './template.js';
import { actionEquivalent } from '../filters/fail2ban/names.js';
import { BAN_PLACEHOLDERS } from './ban-values.js';

/** One command of a lifecycle step. */
export interface Step {
  readonly argv: readonly string[];
  /** Skip the command when this one succeeds (e.g. `iptables -C` before `iptables -I`). */
  readonly unless: readonly string[] | undefined;
  /** Run once per address family (4, then 6) instead of once. */
  readonly perFamily: boolean;
  /** A failure is logged at debug level and ignored (cleanup of something that may be gone). */
  readonly ignoreFailure: boolean;
  /** check only: stdout must match. */
  readonly expect: RegExp | undefined;
  /** Lines written to the command's stdin (an element that is exactly a list value gives a line per item). */
  readonly stdin: readonly string[] | undefined;
}

/** The program that takes many changes on stdin in one call (`nft -f -`, `ipset restore`). */
export interface Batch {
  readonly argv: readonly string[];
  /** One call per family (iptables-restore and ip6tables-restore) instead of one for both. */
  readonly perFamily: boolean;
  readonly header: readonly string[];
  readonly footer: readonly string[];
  /**
   * Consecutive lines `PREFIX { A }`, `PREFIX { B }` with the same PREFIX go in as one line
   * `PREFIX { A, B }` (nft's element lists): nft 1.0 takes 100,000 elements in one command
   * many times faster than in 100,000 commands.
   */
  readonly mergeElements: boolean;
}

/** Reads our kernel state back: one match of `pattern` (group `target`) per banned target. */
export interface Lister {
  readonly argv: readonly string[];
  readonly perFamily: boolean;
  readonly pattern: RegExp;
}

export interface ScriptOp {
  /** Lines for the batch program, rendered once per family. */
  readonly script: readonly string[];
  readonly run: readonly Step[];
}

export interface ItemOp {
  /** Lines for the batch program, rendered once per target. */
  readonly each: readonly string[];
  /** Lines used instead of `each` for a ban without a kernel timeout. */
  readonly eachPermanent: readonly string[];
  /** Commands run once per target (actions without a batch program). */
  readonly run: readonly Step[];
  /**
   * unban only: when one batch would delete more than this many networks of a family, empty
   * that family's sets (the flush script) and add back what stays, in the same batch. nft
   * deletes from a large interval set slowly, in proportion to its size; adding is fast.
   * Address deletes do not count: they go to a plain set, where deleting is fast.
   */
  readonly rebuildAbove: number | undefined;
}

export interface ActionDefinition {
  readonly name: string;
  readonly file: string;
  readonly description: string;
  /** Log every command instead of running it. */
  readonly dryRun: boolean;
  /**
   * A notification: its ban commands run when a ban is made, not again when pban re-applies
   * the active bans (start, reload, repair). fail2ban's `norestored`.
   */
  readonly norestored: boolean;
  /** Longest kernel timeout in seconds the backend takes; longer bans get this one, refreshed before it runs out. */
  readonly maxTimeout: number | undefined;
  /**
   * Names of the firewall objects this action owns, rendered per family (`nft-{table}`): a
   * runner locks each before it touches the firewall, so a second pban cannot take them over.
   */
  readonly lock: readonly string[];
  readonly params: ReadonlyMap<string, ParamValue>;
  readonly paramsPorts: ReadonlyMap<string, ParamValue>;
  readonly paramsAllPorts: ReadonlyMap<string, ParamValue>;
  readonly batch: Batch | undefined;
  readonly list: Lister | undefined;
  readonly start: ScriptOp;
  readonly check: ScriptOp;
  readonly flush: ScriptOp;
  readonly stop: ScriptOp;
  readonly ban: ItemOp;
  readonly unban: ItemOp;
}

/** Values pban fills in; a parameter may not reuse these names. */
export const SET_PLACEHOLDERS = ['jail', 'family', 'ports', 'ports_colon', 'protocol', 'action_dir'] as const;
/** Values that exist only while rendering one target (ban and unban). */
export const ITEM_PLACEHOLDERS = ['target', 'addr', 'prefix', 'bantime'] as const;

const TOP_KEYS = new Set(['description', 'dry_run', 'norestored', 'max_timeout', 'lock', 'params', 'params_ports', 'params_allports',
  'batch', 'list', 'start', 'check', 'flush', 'stop', 'ban', 'unban']);
const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;

type Table = Record<string, unknown>;

class Reader {
  constructor(readonly file: string, readonly text: string) {}

  /** Best effort: the first line that assigns `key` (or opens table `key`). */
  lineOf(key: string): number | undefined {
    const last = key.split('.').pop() ?? key;
    const lines = this.text.split('\n');
    const esc = last.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const assign = new RegExp(`^\\s*"?${esc}"?\\s*=`);
    const table = new RegExp(`^\\s*\\[\\[?\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\]`);
    for (let i = 0; i < lines.length; i++) if (table.test(lines[i] ?? '')) return i + 1;
    for (let i = 0; i < lines.length; i++) if (assign.test(lines[i] ?? '')) return i + 1;
    return undefined;
  }

  fail(key: string, detail: string): never {
    throw new ConfigError('action.invalid', this.file, this.lineOf(key), detail);
  }

  table(parent: Table, key: string, where: string): Table | undefined {
    const v = parent[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where, `${where}: expected a table`);
    return v as Table;
  }

  onlyKeys(t: Table, allowed: readonly string[], where: string): void {
    for (const k of Object.keys(t)) {
      // a key of an inline table ({ 4 = …, 6 = … }) is not at the start of a line: name the table's line
      if (!allowed.includes(k)) this.fail(this.lineOf(k) === undefined ? where : k, `${where}: unknown key "${k}" (expected one of: ${allowed.join(', ')})`);
    }
  }

  strings(v: unknown, where: string): string[] {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) this.fail(where, `${where}: expected an array of strings`);
    for (const s of v as string[]) if (s.includes('\n')) this.fail(where, `${where}: a newline is not allowed in "${s}"`);
    return v as string[];
  }

  optStrings(t: Table, key: string, where: string): string[] {
    return t[key] === undefined ? [] : this.strings(t[key], `${where}.${key}`);
  }

  bool(t: Table, key: string, where: string, dflt: boolean): boolean {
    const v = t[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') this.fail(key, `${where}.${key}: expected true or false`);
    return v;
  }

  regex(v: unknown, where: string): RegExp {
    if (typeof v !== 'string') this.fail(where, `${where}: expected a regular expression string`);
    try {
      return new RegExp(v, 'm');
    } catch (e) {
      this.fail(where, `${where}: invalid regular expression: ${(e as Error).message}`);
    }
  }

  argv(v: unknown, where: string): string[] {
    const a = this.strings(v, where);
    if (a.length === 0) this.fail(where, `${where}: an empty command`);
    return a;
  }

  step(v: unknown, where: string, withExpect: boolean): Step {
    if (Array.isArray(v)) return { argv: this.argv(v, where), unless: undefined, perFamily: false, ignoreFailure: false, expect: undefined, stdin: undefined };
    if (typeof v !== 'object' || v === null) this.fail(where, `${where}: expected a command (array) or a table with argv`);
    const t = v as Table;
    this.onlyKeys(t, ['argv', 'unless', 'per_family', 'ignore_failure', 'stdin', ...(withExpect ? ['expect'] : [])], where);
    return {
      argv: this.strings(t['argv'], `${where}.argv`),
      unless: t['unless'] === undefined ? undefined : this.argv(t['unless'], `${where}.unless`),
      perFamily: this.bool(t, 'per_family', where, false),
      ignoreFailure: this.bool(t, 'ignore_failure', where, false),
      expect: t['expect'] === undefined ? undefined : this.regex(t['expect'], `${where}.expect`),
      stdin: t['stdin'] === undefined ? undefined : this.strings(t['stdin'], `${where}.stdin`),
    };
  }

  steps(t: Table, where: string, withExpect = false): Step[] {
    const v = t['run'];
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail('run', `${where}.run: expected an array of commands`);
    return v.map((s, i) => this.step(s, `${where}.run[${i}]`, withExpect));
  }

  scalar(v: unknown, where: string): ParamScalar {
    if (typeof v === 'string') {
      if (v.includes('\n')) this.fail(where, `${where}: a newline is not allowed`);
      return v;
    }
    return this.strings(v, where);
  }

  params(t: Table | undefined, where: string): Map<string, ParamValue> {
    const out = new Map<string, ParamValue>();
    for (const [k, v] of Object.entries(t ?? {})) {
      if (!/^[a-z][a-z0-9_]*$/.test(k)) this.fail(k, `${where}.${k}: parameter names are lowercase letters, digits and _`);
      if (([...SET_PLACEHOLDERS, ...ITEM_PLACEHOLDERS, ...BAN_PLACEHOLDERS] as readonly string[]).includes(k)) {
        this.fail(k, `${where}.${k}: "${k}" is a built-in placeholder and cannot be a parameter`);
      }
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const pf = v as Table;
        if ('address' in pf || 'network' in pf) {
          this.onlyKeys(pf, ['address', 'network'], `${where}.${k}`);
          if (pf['address'] === undefined || pf['network'] === undefined) this.fail(k, `${where}.${k}: a per-kind value needs both address and network`);
          out.set(k, { address: this.scalar(pf['address'], `${where}.${k}.address`), network: this.scalar(pf['network'], `${where}.${k}.network`) });
          continue;
        }
        this.onlyKeys(pf, ['4', '6'], `${where}.${k}`);
        if (pf['4'] === undefined || pf['6'] === undefined) this.fail(k, `${where}.${k}: a per-family value needs both 4 and 6 (or address and network)`);
        out.set(k, { 4: this.scalar(pf['4'], `${where}.${k}.4`), 6: this.scalar(pf['6'], `${where}.${k}.6`) });
      } else {
        out.set(k, this.scalar(v, `${where}.${k}`));
      }
    }
    return out;
  }
}

/** Every template string in a definition, with where it sits and whether item values exist there. */
function templates(def: ActionDefinition): { where: string; text: string; item: boolean }[] {
  const out: { where: string; text: string; item: boolean }[] = [];
  const add = (where: string, texts: readonly string[], item: boolean) => {
    for (const text of texts) out.push({ where, text, item });
  };
  const stepsOf = (where: string, steps: readonly Step[], item: boolean) =>
    steps.forEach((s, i) => {
      add(`${where}.run[${i}]`, s.argv, item);
      add(`${where}.run[${i}].unless`, s.unless ?? [], item);
      add(`${where}.run[${i}].stdin`, s.stdin ?? [], item);
    });
  if (def.batch) add('batch', [...def.batch.argv, ...def.batch.header, ...def.batch.footer], false);
  if (def.list) add('list', def.list.argv, false);
  add('lock', def.lock, false);
  for (const op of ['start', 'check', 'flush', 'stop'] as const) {
    add(op, def[op].script, false);
    stepsOf(op, def[op].run, false);
  }
  for (const op of ['ban', 'unban'] as const) {
    add(op, [...def[op].each, ...def[op].eachPermanent], true);
    stepsOf(op, def[op].run, true);
  }
  return out;
}

/** Where a ban's own values (failures, kinds, …) exist: the per-target commands of ban. */
export function isBanRun(where: string): boolean {
  return where.startsWith('ban.run[');
}

/**
 * Parameters whose value depends on the target: per-kind values, and any that refer to an item
 * placeholder or to such a parameter. Used outside ban and unban they could not be rendered.
 * With `builtins` = BAN_PLACEHOLDERS and `perKind` false: the parameters that use a ban's values.
 */
export function itemOnlyParams(maps: readonly ReadonlyMap<string, ParamValue>[], builtins: readonly string[] = ITEM_PLACEHOLDERS, perKind = true): Set<string> {
  const out = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const m of maps) {
      for (const [k, v] of m) {
        if (out.has(k)) continue;
        const uses = paramStrings(v).flatMap(placeholders);
        if ((perKind && isPerKind(v)) || uses.some((n) => out.has(n) || builtins.includes(n))) {
          out.add(k);
          changed = true;
        }
      }
    }
  }
  return out;
}

/**
 * Parameters used, directly or through other parameters, where there is no target (outside ban
 * and unban); with `outsideBanRun`, those used anywhere but in ban's commands (no ban values there).
 */
export function paramsUsedWithoutTarget(def: ActionDefinition, maps: readonly ReadonlyMap<string, ParamValue>[], outsideBanRun = false): Set<string> {
  const out = new Set<string>();
  const todo = templates(def).filter((t) => (outsideBanRun ? !isBanRun(t.where) : !t.item)).flatMap((t) => placeholders(t.text));
  for (let name = todo.pop(); name !== undefined; name = todo.pop()) {
    if (out.has(name)) continue;
    out.add(name);
    for (const m of maps) {
      const v = m.get(name);
      if (v !== undefined) todo.push(...paramStrings(v).flatMap(placeholders));
    }
  }
  return out;
}

/** A parameter that uses a ban's values and is used outside ban.run, if any. */
export function banValueMisuse(def: ActionDefinition, maps: readonly ReadonlyMap<string, ParamValue>[]): string | undefined {
  const usesBan = itemOnlyParams(maps, BAN_PLACEHOLDERS, false);
  const elsewhere = paramsUsedWithoutTarget(def, maps, true);
  return [...usesBan].find((k) => elsewhere.has(k));
}

/** Parses and validates the text of an action file. */
export function parseActionDefinition(file: string, text: string): ActionDefinition {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (e) {
    if (e instanceof TomlError) throw new ConfigError('action.syntax', file, e.line, e.message.split('\n')[0] ?? 'invalid TOML');
    throw e;
  }
  const r = new Reader(file, text);
  for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) r.fail(k, `unknown key "${k}" (expected one of: ${[...TOP_KEYS].join(', ')})`);

  const description = doc['description'] ?? '';
  if (typeof description !== 'string') r.fail('description', 'description: expected a string');
  const maxTimeout = doc['max_timeout'];
  if (maxTimeout !== undefined && (typeof maxTimeout !== 'number' || !Number.isInteger(maxTimeout) || maxTimeout < 1)) {
    r.fail('max_timeout', 'max_timeout: expected a whole number of seconds >= 1');
  }

  let batch: Batch | undefined;
  const b = r.table(doc, 'batch', 'batch');
  if (b) {
    r.onlyKeys(b, ['argv', 'per_family', 'header', 'footer', 'merge_elements'], 'batch');
    batch = {
      argv: r.argv(b['argv'], 'batch.argv'),
      perFamily: r.bool(b, 'per_family', 'batch', false),
      header: r.optStrings(b, 'header', 'batch'),
      footer: r.optStrings(b, 'footer', 'batch'),
      mergeElements: r.bool(b, 'merge_elements', 'batch', false),
    };
  }
  let list: Lister | undefined;
  const l = r.table(doc, 'list', 'list');
  if (l) {
    r.onlyKeys(l, ['argv', 'per_family', 'pattern'], 'list');
    const pattern = r.regex(l['pattern'], 'list.pattern');
    if (!pattern.source.includes('(?<target>')) r.fail('pattern', 'list.pattern: needs a named group (?<target>...)');
    list = { argv: r.argv(l['argv'], 'list.argv'), perFamily: r.bool(l, 'per_family', 'list', false), pattern: new RegExp(pattern.source, 'gm') };
  }
  const scriptOp = (key: 'start' | 'check' | 'flush' | 'stop'): ScriptOp => {
    const t = r.table(doc, key, key) ?? {};
    const allowScript = key !== 'check' && key !== 'stop';
    r.onlyKeys(t, allowScript ? ['script', 'run'] : ['run'], key);
    if (allowScript && t['script'] !== undefined && !batch) r.fail(key, `${key}.script: needs a [batch] program to write to`);
    return { script: r.optStrings(t, 'script', key), run: r.steps(t, key, key === 'check') };
  };
  const norestored = r.bool(doc, 'norestored', 'top level', false);
  if (norestored && batch) r.fail('norestored', 'norestored: only for actions without a [batch] program (a firewall must get its bans back at start)');
  const itemOp = (key: 'ban' | 'unban'): ItemOp => {
    const t = r.table(doc, key, key) ?? {};
    r.onlyKeys(t, key === 'ban' ? ['each', 'each_permanent', 'run'] : ['each', 'run', 'rebuild_above'], key);
    const rebuildAbove = t['rebuild_above'];
    if (rebuildAbove !== undefined && (typeof rebuildAbove !== 'number' || !Number.isInteger(rebuildAbove) || rebuildAbove < 0)) {
      r.fail('rebuild_above', `${key}.rebuild_above: expected a whole number >= 0`);
    }
    if (rebuildAbove !== undefined && (!batch || doc['flush'] === undefined)) r.fail('rebuild_above', `${key}.rebuild_above: needs a [batch] program and a [flush] script`);
    const each = r.optStrings(t, 'each', key);
    const run = r.steps(t, key);
    if (batch && each.length === 0) r.fail(key, `${key}.each: required when [batch] is set`);
    if (!batch && each.length > 0) r.fail(key, `${key}.each: needs a [batch] program to write to`);
    // a notification (norestored) may have nothing to say when a ban ends
    if (!batch && run.length === 0 && !(key === 'unban' && norestored)) r.fail(key, `${key}.run: required (or a [batch] program with ${key}.each)`);
    const perm = t['each_permanent'] === undefined ? each : r.strings(t['each_permanent'], `${key}.each_permanent`);
    return { each, eachPermanent: perm, run, rebuildAbove: rebuildAbove as number | undefined };
  };

  const def: ActionDefinition = {
    name: path.basename(file, '.toml'),
    file,
    description: description as string,
    dryRun: r.bool(doc, 'dry_run', 'top level', false),
    norestored,
    maxTimeout: maxTimeout as number | undefined,
    lock: doc['lock'] === undefined ? [] : r.strings(doc['lock'], 'lock'),
    params: r.params(r.table(doc, 'params', 'params'), 'params'),
    paramsPorts: r.params(r.table(doc, 'params_ports', 'params_ports'), 'params_ports'),
    paramsAllPorts: r.params(r.table(doc, 'params_allports', 'params_allports'), 'params_allports'),
    batch,
    list,
    start: scriptOp('start'),
    check: scriptOp('check'),
    flush: scriptOp('flush'),
    stop: scriptOp('stop'),
    ban: itemOp('ban'),
    unban: itemOp('unban'),
  };

  // Every placeholder must name something; item values only exist in ban/unban.
  const known = new Set<string>([...SET_PLACEHOLDERS, ...def.params.keys(), ...def.paramsPorts.keys(), ...def.paramsAllPorts.keys()]);
  const itemOnly = itemOnlyParams([def.params, def.paramsPorts, def.paramsAllPorts]);
  const check = (where: string, text: string, item: boolean) => {
    for (const name of placeholders(text)) {
      if ((BAN_PLACEHOLDERS as readonly string[]).includes(name)) {
        if (!isBanRun(where) && !where.startsWith('params')) r.fail(where.split(/[.[]/)[0] ?? where, `${where}: {${name}} exists only in ban.run commands`);
      } else if ((ITEM_PLACEHOLDERS as readonly string[]).includes(name)) {
        if (!item) r.fail(where.split(/[.[]/)[0] ?? where, `${where}: {${name}} exists only in ban and unban`);
      } else if (!known.has(name)) {
        r.fail(where.split(/[.[]/)[0] ?? where, `${where}: unknown placeholder {${name}} in "${text}"`);
      } else if (!item && itemOnly.has(name)) {
        r.fail(where.split(/[.[]/)[0] ?? where, `${where}: {${name}} depends on the target and exists only in ban and unban`);
      }
    }
  };
  for (const t of templates(def)) check(t.where, t.text, t.item);
  for (const [label, m] of [['params', def.params], ['params_ports', def.paramsPorts], ['params_allports', def.paramsAllPorts]] as const) {
    for (const [k, v] of m) for (const s of paramStrings(v)) check(`${label}.${k}`, s, true);
  }
  const banParamProblem = banValueMisuse(def, [def.params, def.paramsPorts, def.paramsAllPorts]);
  if (banParamProblem !== undefined) r.fail(banParamProblem, `params.${banParamProblem}: uses a ban's values ({failures}, {kinds}, …), which exist only in ban.run commands, and is used elsewhere`);
  return def;
}

export function loadActionFile(file: string): ActionDefinition {
  let text: string;
  try {
    text = readSmallTextFile(file);
  } catch (e) {
    throw new ConfigError('action.unreadable', file, undefined, `cannot read action file: ${describeFileError(e)}`);
  }
  return parseActionDefinition(file, text);
}

/** `nftables` → the shipped actions/nftables.toml; anything with a slash or .toml is a path. */
export function resolveActionFile(ref: string, dir: string = ACTIONS_DIR): string {
  if (ref.includes('/') || ref.endsWith('.toml')) return path.resolve(ref);
  if (!NAME_RE.test(ref)) throw new ConfigError('action.unknown', ref, undefined, `invalid action name "${ref}"`);
  const file = path.join(dir, `${ref}.toml`);
  // A fail2ban action name (iptables-multiport, …): say what pban's equivalent is.
  const eq = existsSync(file) ? undefined : actionEquivalent(ref);
  if (eq !== undefined) throw new ConfigError('action.unknown', ref, undefined, eq);
  return file;
}

export function loadAction(ref: string, dir?: string): ActionDefinition {
  return loadActionFile(resolveActionFile(ref, dir));
}
