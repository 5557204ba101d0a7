// Turns lifecycle operations and kernel changes into invocations: an argv, and for batch
// programs the lines for their stdin. Pure: the runner executes what comes out.
import path from 'node:path';
import type { Ban, Family, Target } from '../events.js';
import { banValues } from './ban-values.js';
import { maxPrefix, target } from '../cidr.js';
import type { PortRange } from '../ports.js';
import type { ActionDefinition, Step } from './definition.js';
import type { Change } from './plan.js';
import { runSteps, runStepsPaused, type Steps } from '../steps.js';
import { kernelTimeout } from './plan.js';
import { renderArgv, renderString, type ParamValue, type RenderContext, type TargetKind } from './template.js';

export interface Invocation {
  readonly argv: readonly string[];
  readonly stdin: string | undefined;
  /** Skip when this command succeeds. */
  readonly unless: readonly string[] | undefined;
  readonly ignoreFailure: boolean;
  readonly expect: RegExp | undefined;
}

export type { PortRange } from '../ports.js';

export interface InstanceSettings {
  readonly jail: string;
  /** Empty: block every port. */
  readonly ports: readonly PortRange[];
  readonly protocol: string;
  /** Per-jail overrides of the action's [params]. */
  readonly params: ReadonlyMap<string, ParamValue>;
}

const FAMILIES: readonly Family[] = [4, 6];
/** Changes rendered between two pauses of batchInSlices (a few ms of work). */
const RENDER_SLICE = 10_000;

/** Elements per merged line: long enough to make 100,000 elements a few commands, short enough to read in an error. */
const MERGE_MAX = 5000;
/** `PREFIX { ELEMENT }`, where ELEMENT has no `;` (a set or chain definition has). */
const ELEMENT_LINE = /^(.*?\S)\s*\{\s*([^{};]*?)\s*\}$/;

/**
 * Merges runs of consecutive lines `PREFIX { A }`, `PREFIX { B }` into `PREFIX { A, B }` (at
 * most MERGE_MAX elements each). Only consecutive lines: the order between different commands
 * (a delete, then an add of the same element) is kept.
 */
export function mergeElementLines(lines: readonly string[]): string[] {
  const m = new ElementMerger();
  for (const line of lines) m.line(line);
  return m.done();
}

/** mergeElementLines() one line at a time; element() takes a line already split. */
class ElementMerger {
  private readonly out: string[] = [];
  private prefix: string | null = null;
  private elems: string[] = [];

  line(line: string): void {
    const m = ELEMENT_LINE.exec(line);
    if (m === null) {
      this.flush();
      this.out.push(line);
    } else this.element(m[1]!, m[2]!);
  }

  /** The line `PREFIX { ELEMENT }` as ELEMENT_LINE splits it. */
  element(prefix: string, elem: string): void {
    if (prefix !== this.prefix || this.elems.length >= MERGE_MAX) this.flush();
    this.prefix = prefix;
    this.elems.push(elem);
  }

  done(): string[] {
    this.flush();
    return this.out;
  }

  private flush(): void {
    if (this.prefix !== null) this.out.push(`${this.prefix} { ${this.elems.join(', ')} }`);
    this.prefix = null;
    this.elems = [];
  }
}

/** A single address (/32, /128) or a network: the two may live in different sets. */
export function kindOf(t: Target): TargetKind {
  return t.prefix === maxPrefix(t.family) ? 'address' : 'network';
}

/**
 * A ban the runner has no record of (a target re-added by a repair of a network lift): what the
 * kernel entry tells. Its failures are unknown, so 0.
 */
function placeholderBan(target: Target, until: number | null): Ban {
  return { target, jail: '', kind: kindOf(target) === 'address' ? 'address' : 'network', created: 0, until, failures: 0, banNumber: 1 };
}

/** The placeholders that differ per target, in the order Renderer.itemLines takes their values. */
const ITEM_VARS = ['target', 'addr', 'prefix', 'bantime'] as const;

/** A batch line of one target, as a function of its values (ITEM_VARS order). */
interface ItemLine {
  readonly render: (values: readonly string[]) => string;
  /** For a line `PREFIX { ELEMENT }` whose PREFIX has no value in it: that split. */
  readonly element: { readonly prefix: string; readonly render: (values: readonly string[]) => string } | undefined;
}

/** A text with markers `\0<index>\0` (see itemLines) as a function of the values. */
function fill(text: string): (values: readonly string[]) => string {
  const parts = text.split('\u0000');
  // parts: text, value index, text, value index, ..., text
  return (values: readonly string[]): string => {
    let s = parts[0]!;
    for (let i = 1; i < parts.length; i += 2) s += values[Number(parts[i])]! + parts[i + 1]!;
    return s;
  };
}

export class Renderer {
  private readonly vars: Map<string, ParamValue>;
  /** Batch line templates of a target's ban or unban, rendered once (see itemLines). */
  private readonly compiled = new Map<string, readonly ItemLine[]>();

  constructor(readonly def: ActionDefinition, readonly settings: InstanceSettings) {
    const withPorts = settings.ports.length > 0;
    this.vars = new Map<string, ParamValue>([
      ...def.params,
      ...(withPorts ? def.paramsPorts : def.paramsAllPorts),
      ...settings.params,
    ]);
    const range = (sep: string) => settings.ports.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}${sep}${r.to}`)).join(',');
    this.vars.set('jail', settings.jail);
    this.vars.set('ports', range('-'));
    this.vars.set('ports_colon', range(':'));
    this.vars.set('protocol', settings.protocol);
    this.vars.set('family', { 4: '4', 6: '6' });
    this.vars.set('action_dir', path.dirname(path.resolve(def.file)));
  }

  /** `ban`: the ban being applied, for ban.run commands (its failures, kinds, …). */
  private ctx(family: Family | undefined, item?: Change, now = 0, ban?: Ban): RenderContext {
    if (!item) return { vars: this.vars, family };
    const t = item.entry.target;
    const timeout = kernelTimeout(item.entry.until, now, this.def.maxTimeout);
    const vars = new Map(this.vars);
    vars.set('target', `${t.addr}/${t.prefix}`);
    vars.set('addr', t.addr);
    vars.set('prefix', String(t.prefix));
    vars.set('bantime', timeout === null ? '0' : String(timeout));
    if (ban !== undefined) for (const [k, v] of banValues(ban)) vars.set(k, v);
    return { vars, family: t.family, kind: kindOf(t) };
  }

  private step(s: Step, ctx: RenderContext): Invocation | undefined {
    const argv = renderArgv(s.argv, ctx);
    // a step whose command is an empty list parameter is switched off (the command action)
    if (argv.length === 0) return undefined;
    return {
      argv,
      // one line per element; an element that is exactly a list value gives a line per item
      stdin: s.stdin ? renderArgv(s.stdin, ctx).map((l) => `${l}\n`).join('') : undefined,
      unless: s.unless ? renderArgv(s.unless, ctx) : undefined,
      ignoreFailure: s.ignoreFailure,
      expect: s.expect,
    };
  }

  /** The `run` commands of start, check, flush or stop. */
  steps(op: 'start' | 'check' | 'flush' | 'stop'): Invocation[] {
    const out: Invocation[] = [];
    for (const s of this.def[op].run) {
      for (const fam of s.perFamily ? FAMILIES : [undefined]) {
        const inv = this.step(s, this.ctx(fam));
        if (inv) out.push(inv);
      }
    }
    return out;
  }

  /**
   * The per-target commands of an action without a batch program. `bans`: the bans being
   * applied, by target (`192.0.2.7/32`), whose values ban.run commands may use.
   */
  itemSteps(changes: readonly Change[], now: number, bans?: ReadonlyMap<string, Ban>): Invocation[] {
    const out: Invocation[] = [];
    for (const c of changes) {
      const op = c.op === 'add' ? this.def.ban : this.def.unban;
      const t = c.entry.target;
      const ban = c.op === 'add' ? (bans?.get(`${t.addr}/${t.prefix}`) ?? placeholderBan(t, c.entry.until)) : undefined;
      for (const s of op.run) {
        const inv = this.step(s, this.ctx(undefined, c, now, ban));
        if (inv) out.push(inv);
      }
    }
    return out;
  }

  /**
   * One call of the batch program (or one per family) carrying the scripts of `ops` for both
   * families, then one group of lines per change, in order. Nothing to say: no invocation.
   */
  batch(ops: readonly ('start' | 'flush')[], changes: readonly Change[], now: number, scriptFamilies: readonly Family[] = FAMILIES): Invocation[] {
    return runSteps(this.batchSteps(ops, changes, now, scriptFamilies));
  }

  /**
   * batch(), pausing after every RENDER_SLICE changes: a start's 100,000 bans took 0.15-0.2 s to
   * render, which `pban status` waited for.
   */
  batchInSlices(ops: readonly ('start' | 'flush')[], changes: readonly Change[], now: number, scriptFamilies: readonly Family[], pause: () => Promise<unknown>): Promise<Invocation[]> {
    return runStepsPaused(this.batchSteps(ops, changes, now, scriptFamilies), pause);
  }

  private *batchSteps(ops: readonly ('start' | 'flush')[], changes: readonly Change[], now: number, scriptFamilies: readonly Family[]): Steps<Invocation[]> {
    const b = this.def.batch;
    if (!b) return [];
    const lines = new Map<Family, string[]>([[4, []], [6, []]]);
    for (const op of ops) {
      for (const fam of scriptFamilies) {
        for (const l of this.def[op].script) lines.get(fam)?.push(renderString(l, this.ctx(fam)));
      }
    }
    const merge = b.mergeElements;
    const m4 = new ElementMerger();
    const m6 = new ElementMerger();
    if (merge) {
      for (const l of lines.get(4)!) m4.line(l);
      for (const l of lines.get(6)!) m6.line(l);
    }
    const l4 = lines.get(4)!;
    const l6 = lines.get(6)!;
    let n = 0;
    for (const c of changes) {
      if (++n % RENDER_SLICE === 0) yield;
      const t = c.entry.target;
      const which = c.op === 'delete' ? 'unban' : c.entry.until === null ? 'permanent' : 'ban';
      const timeout = kernelTimeout(c.entry.until, now, this.def.maxTimeout);
      const values = [`${t.addr}/${t.prefix}`, t.addr, String(t.prefix), timeout === null ? '0' : String(timeout)];
      const four = t.family === 4;
      for (const line of this.itemLines(which, t.family, kindOf(t))) {
        if (!merge) (four ? l4 : l6).push(line.render(values));
        else if (line.element) (four ? m4 : m6).element(line.element.prefix, line.element.render(values));
        else (four ? m4 : m6).line(line.render(values));
      }
    }
    const call = (fam: Family | undefined, body: string[]): Invocation => {
      const ctx = this.ctx(fam);
      const all = [...b.header.map((l) => renderString(l, ctx)), ...body, ...b.footer.map((l) => renderString(l, ctx))];
      return { argv: renderArgv(b.argv, ctx), stdin: all.join('\n') + '\n', unless: undefined, ignoreFailure: false, expect: undefined };
    };
    const o4 = merge ? m4.done() : l4;
    const o6 = merge ? m6.done() : l6;
    if (!b.perFamily) return o4.length + o6.length === 0 ? [] : [call(undefined, [...o4, ...o6])];
    const out: Invocation[] = [];
    if (o4.length > 0) out.push(call(4, o4));
    if (o6.length > 0) out.push(call(6, o6));
    return out;
  }

  /**
   * The batch lines of one ban, permanent ban or unban of a target of this family and kind, as
   * functions of the target's values (ITEM_VARS order). Each template is rendered once, with
   * markers where those values go: 100,000 bans at start then cost a string join each, not a
   * copy of the variables and a placeholder search. The same text as renderString gives, since
   * a target's values hold no placeholder.
   */
  private itemLines(which: 'ban' | 'permanent' | 'unban', family: Family, kind: TargetKind): readonly ItemLine[] {
    const key = `${which}:${family}:${kind}`;
    let lines = this.compiled.get(key);
    if (lines === undefined) {
      const vars = new Map(this.vars);
      ITEM_VARS.forEach((name, i) => vars.set(name, `\u0000${i}\u0000`));
      const tpl = which === 'unban' ? this.def.unban.each : which === 'permanent' ? this.def.ban.eachPermanent : this.def.ban.each;
      lines = tpl.map((l) => {
        const text = renderString(l, { vars, family, kind });
        // Split as mergeElementLines() would split the rendered line: the values are never
        // empty and hold no space, brace or `;`, so they move neither the `{` nor the trim.
        // Its regex then runs once per template, not once per ban.
        const m = ELEMENT_LINE.exec(text);
        const element = m !== null && !m[1]!.includes('\u0000') ? { prefix: m[1]!, render: fill(m[2]!) } : undefined;
        return { render: fill(text), element };
      });
      this.compiled.set(key, lines);
    }
    return lines;
  }

  /** The names of the firewall objects to lock, rendered for both families, without repeats. */
  lockNames(): string[] {
    const out = new Set<string>();
    for (const t of this.def.lock) for (const fam of FAMILIES) out.add(renderString(t, this.ctx(fam)));
    return [...out];
  }

  /** Every program the action may start (argv[0] of each command, before any command prefix). */
  programs(): string[] {
    const out = new Set<string>();
    const add = (argv: readonly string[] | undefined) => {
      if (argv?.[0] !== undefined) out.add(argv[0]);
    };
    if (this.def.batch) for (const fam of this.def.batch.perFamily ? FAMILIES : [undefined]) add(renderArgv(this.def.batch.argv, this.ctx(fam)));
    for (const op of ['start', 'check', 'flush', 'stop'] as const) {
      for (const inv of this.steps(op)) {
        add(inv.argv);
        add(inv.unless);
      }
    }
    for (const call of this.listCalls()) add(call.argv);
    // per-target commands: what program they start does not depend on the target
    for (const t of ['192.0.2.1/32', '2001:db8::/64']) {
      const entry = { key: t, target: target(t), value: 0n, until: null, kernelExpiry: null };
      for (const inv of this.itemSteps([{ op: 'add', entry }, { op: 'delete', entry }], 0)) {
        add(inv.argv);
        add(inv.unless);
      }
    }
    return [...out];
  }

  /** The commands that read our state back, one per family or one for both. */
  listCalls(): { family: Family | undefined; argv: string[] }[] {
    const l = this.def.list;
    if (!l) return [];
    return (l.perFamily ? FAMILIES : [undefined]).map((family) => ({ family, argv: renderArgv(l.argv, this.ctx(family)) }));
  }
}
