// The command line as plain data, read from the commander program itself with commander's own
// help helpers: the man page and the shell completions are generated from it, so they list
// exactly the commands, arguments and options that `--help` shows and cannot drift from them.
import type { EventEmitter } from 'node:events';
import { readdirSync } from 'node:fs';
import type { Command } from 'commander';
import { FILTERS_DIR } from '../paths.js';

/** What a value is, for completion: a path, one of fixed words, or free text. */
export type ValueKind = { readonly kind: 'file' } | { readonly kind: 'words'; readonly words: readonly string[] } | { readonly kind: 'text' };

export interface OptionInfo {
  /** As written: "-c, --config <file>". */
  readonly flags: string;
  readonly short: string | undefined;
  readonly long: string | undefined;
  /** Undefined for a flag without a value. */
  readonly value: ValueKind | undefined;
  /** The help line, defaults included ("config file (default: ...)"). */
  readonly description: string;
}

export interface ArgumentInfo {
  readonly name: string;
  /** As --help's list of arguments names it: "jail", "targets...". */
  readonly term: string;
  readonly required: boolean;
  readonly variadic: boolean;
  readonly value: ValueKind;
  readonly description: string;
}

export interface CommandInfo {
  readonly name: string;
  /** "pban ban [options] <jail> <target>". */
  readonly usage: string;
  readonly summary: string;
  readonly description: string;
  readonly arguments: readonly ArgumentInfo[];
  readonly options: readonly OptionInfo[];
  /** Text the command prints after its help (examples), as written. */
  readonly after: string;
  readonly commands: readonly CommandInfo[];
}

/** Completions for a positional argument, by its name; anything else is free text. */
export interface ArgumentValues {
  /** Shipped filter names, offered for an argument called "filter" (a path works too). */
  readonly filters: readonly string[];
  /** The sibling command names, for `help [command]`. */
  readonly commands?: readonly string[];
}

const FILE_VALUE_NAMES = new Set(['file', 'path', 'dir']);
const FILE_ARGUMENTS = new Set(['log', 'file', 'config']);

function optionValue(opt: { required: boolean; optional: boolean; flags: string; argChoices?: string[] }): ValueKind | undefined {
  if (!opt.required && !opt.optional) return undefined;
  if (opt.argChoices) return { kind: 'words', words: opt.argChoices };
  const name = /[<[]([\w-]+)(?:\.\.\.)?[>\]]/.exec(opt.flags)?.[1] ?? '';
  return FILE_VALUE_NAMES.has(name) ? { kind: 'file' } : { kind: 'text' };
}

function argumentValue(arg: { name(): string; argChoices?: string[] }, values: ArgumentValues): ValueKind {
  if (arg.argChoices) return { kind: 'words', words: arg.argChoices };
  if (FILE_ARGUMENTS.has(arg.name())) return { kind: 'file' };
  if (arg.name() === 'filter') return { kind: 'words', words: values.filters };
  if (arg.name() === 'command' && values.commands) return { kind: 'words', words: values.commands };
  return { kind: 'text' };
}

/** Emits a help event with a capturing writer: how commander's addHelpText text is read back. */
function helpText(cmd: Command, event: 'afterHelp'): string {
  let out = '';
  // A Command is an EventEmitter at run time; its typings do not say so.
  (cmd as unknown as EventEmitter).emit(event, { error: false, command: cmd, write: (s: string) => (out += s) });
  return out;
}

export function describeCommand(cmd: Command, values: ArgumentValues, parents: readonly string[] = []): CommandInfo {
  const help = cmd.createHelp();
  const path = [...parents, cmd.name()];
  const subs = help.visibleCommands(cmd);
  // All arguments, not help.visibleArguments: that hides them all when none has a description.
  const args = cmd.registeredArguments.map((a) => ({
    name: a.name(),
    term: help.argumentTerm(a),
    required: a.required,
    variadic: a.variadic,
    value: argumentValue(a, values),
    description: help.argumentDescription(a),
  }));
  // The usage line of a sub-command names its parents, as `pban help ban` prints it.
  const usage = `${path.join(' ')} ${cmd.usage()}`.trim();
  return {
    name: cmd.name(),
    usage,
    summary: help.subcommandDescription(cmd),
    description: help.commandDescription(cmd),
    arguments: args,
    options: help.visibleOptions(cmd).map((o) => ({
      flags: o.flags,
      short: o.short,
      long: o.long,
      value: optionValue(o),
      description: help.optionDescription(o),
    })),
    after: helpText(cmd, 'afterHelp').replace(/^\n+|\s+$/g, ''),
    commands: subs.map((sub) => describeCommand(sub, { ...values, commands: subs.map((c) => c.name()) }, path)),
  };
}

/** The whole program, with the filters shipped in this package as the values of <filter>. */
export function programInfo(program: Command): CommandInfo {
  const filters = readdirSync(FILTERS_DIR)
    .filter((f) => f.endsWith('.toml'))
    .map((f) => f.slice(0, -'.toml'.length))
    .sort();
  return describeCommand(program, { filters });
}
