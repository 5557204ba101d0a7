// Reads fail2ban's INI files as fail2ban does: Python's configparser syntax (continuation
// lines, `#`/`;` comments, `; ` inline comments, lowercased keys), `[INCLUDES]` before/after
// (recursively, each file followed by its `.local`), later files overriding earlier ones
// section by section while the overridden values stay reachable as `%(known/name)s`, and
// `%(name)s` / `%(section/name)s` interpolation.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export class IniError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

/** One value with where it was written, for error messages. */
export interface IniValue {
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

type Section = Map<string, IniValue>;

export class IniConfig {
  readonly defaults: Section = new Map();
  readonly sections = new Map<string, Section>();
  readonly files: string[] = [];

  has(section: string, option: string): boolean {
    return this.sections.get(section)?.has(option) === true || this.defaults.has(option);
  }

  raw(section: string, option: string): IniValue | undefined {
    return this.sections.get(section)?.get(option) ?? this.defaults.get(option);
  }

  /** Option names of a section, without the defaults. */
  options(section: string): string[] {
    return [...(this.sections.get(section)?.keys() ?? [])];
  }

  /**
   * The interpolated value, as configparser's get(section, option, vars=vars): vars first,
   * then the section, then [DEFAULT]. `sec/name` reads another section (`known/name`: the
   * value this one overrode). Undefined when the option does not exist.
   */
  get(section: string, option: string, vars: ReadonlyMap<string, string> = new Map()): string | undefined {
    const sopt = /^([\w-]+)\/([^\s>]+)$/.exec(option);
    option = option.toLowerCase();
    if (sopt) {
      const sec = (sopt[1] as string).toLowerCase();
      const opt = (sopt[2] as string).toLowerCase();
      const target = sec === 'known' ? `KNOWN/${section}` : sec === 'default' ? null : this.findSection(sopt[1] as string);
      const v = target === null ? this.defaults.get(opt) : target === undefined ? undefined : this.sections.get(target)?.get(opt);
      if (v !== undefined) return this.interpolate(target ?? section, opt, v, vars, 0);
    }
    const direct = vars.get(option);
    if (direct !== undefined) return this.interpolate(section, option, { value: direct, file: '', line: 0 }, vars, 0);
    const v = this.raw(section, option);
    if (v === undefined) return undefined;
    return this.interpolate(section, option, v, vars, 0);
  }

  private findSection(name: string): string | undefined {
    if (this.sections.has(name)) return name;
    return undefined;
  }

  private lookup(section: string, name: string, vars: ReadonlyMap<string, string>): { v: IniValue; section: string } | undefined {
    if (name === '__name__') return { v: { value: section, file: '', line: 0 }, section };
    const direct = vars.get(name);
    if (direct !== undefined) return { v: { value: direct, file: '', line: 0 }, section };
    const sopt = /^([\w-]+)\/(.+)$/.exec(name);
    if (sopt) {
      const sec = (sopt[1] as string).toLowerCase();
      const opt = sopt[2] as string;
      if (sec === 'known') {
        const v = this.sections.get(`KNOWN/${section}`)?.get(opt) ?? this.defaults.get(opt);
        return v === undefined ? undefined : { v, section };
      }
      if (sec === 'default') {
        const v = this.defaults.get(opt);
        return v === undefined ? undefined : { v, section };
      }
      const other = this.sections.get(sopt[1] as string);
      if (other === undefined) return undefined;
      const v = other.get(opt) ?? this.defaults.get(opt);
      return v === undefined ? undefined : { v, section };
    }
    const v = this.sections.get(section)?.get(name) ?? this.defaults.get(name);
    return v === undefined ? undefined : { v, section };
  }

  private interpolate(section: string, option: string, v: IniValue, vars: ReadonlyMap<string, string>, depth: number): string {
    if (depth > 10) throw new IniError(v.file, v.line, `interpolation of "${option}" is nested too deeply (a loop?)`);
    const s = v.value;
    if (!s.includes('%')) return s;
    let out = '';
    let i = 0;
    while (i < s.length) {
      const p = s.indexOf('%', i);
      if (p < 0) {
        out += s.slice(i);
        break;
      }
      out += s.slice(i, p);
      const n = s[p + 1];
      if (n === '%') {
        out += '%';
        i = p + 2;
        continue;
      }
      if (n === '(') {
        const m = /^%\(([^)]+)\)s/.exec(s.slice(p));
        if (!m) throw new IniError(v.file, v.line, `bad interpolation syntax in "${option}" at "${s.slice(p, p + 20)}"`);
        const raw = m[1] as string;
        const slash = raw.indexOf('/');
        // Section names keep their case; option names are case-insensitive.
        const name = slash < 0 ? raw.toLowerCase() : `${raw.slice(0, slash)}/${raw.slice(slash + 1).toLowerCase()}`;
        const found = this.lookup(section, name, vars);
        if (found === undefined) throw new IniError(v.file, v.line, `"${option}" refers to %(${m[1]})s, which is not defined`);
        out += found.v.value.includes('%') ? this.interpolate(found.section, name, found.v, vars, depth + 1) : found.v.value;
        i = p + m[0].length;
        continue;
      }
      throw new IniError(v.file, v.line, `"%" must be followed by "%" or "(" in "${option}" (write %% for a literal percent)`);
    }
    return out;
  }
}

interface ParsedFile {
  defaults: Section;
  sections: Map<string, Section>;
}

/** Python configparser's reading of one file (strict about syntax, not about duplicates). */
export function parseIni(text: string, file: string): ParsedFile {
  const defaults: Section = new Map();
  const sections = new Map<string, Section>();
  let cur: Section | null = null;
  let key: string | null = null;
  let parts: string[] = [];
  let keyLine = 0;
  let indent = 0;
  const flush = () => {
    if (cur !== null && key !== null) cur.set(key, { value: parts.join('\n').replace(/\s+$/, ''), file, line: keyLine });
    key = null;
    parts = [];
  };
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((rawLine, idx) => {
    const lineNo = idx + 1;
    // Inline comments: ";" after whitespace. Full-line comments: "#" or ";" first.
    let line = rawLine;
    const ic = /\s;/.exec(line);
    if (ic) line = line.slice(0, ic.index);
    const stripped = line.trim();
    const isComment = /^[#;]/.test(rawLine.trim());
    if (stripped === '' || isComment) {
      // An empty line inside a value is kept (configparser's empty_lines_in_values); a comment is not.
      if (!isComment && key !== null) parts.push('');
      return;
    }
    const lead = line.length - line.trimStart().length;
    if (key !== null && lead > indent) {
      parts.push(stripped);
      return;
    }
    indent = lead;
    const sec = /^\[([^\]]+)\]/.exec(stripped);
    if (sec) {
      flush();
      const name = sec[1] as string;
      if (name === 'DEFAULT') cur = defaults;
      else {
        cur = sections.get(name) ?? new Map();
        sections.set(name, cur);
      }
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(stripped);
    if (!kv) throw new IniError(file, lineNo, `not "key = value", a [section] or a comment: ${JSON.stringify(stripped.slice(0, 80))}`);
    if (cur === null) throw new IniError(file, lineNo, 'option before the first [section]');
    flush();
    key = (kv[1] as string).trim().toLowerCase();
    keyLine = lineNo;
    parts = [kv[2] as string];
  });
  flush();
  return { defaults, sections };
}

function readOne(file: string, cache: Map<string, ParsedFile>): ParsedFile {
  let p = cache.get(file);
  if (p === undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new IniError(file, undefined, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message);
    }
    p = parseIni(text, file);
    cache.set(file, p);
  }
  return p;
}

/** The file and its .local, each preceded by its `before` and followed by its `after` includes. */
function withIncludes(file: string, cache: Map<string, ParsedFile>, seen: readonly string[], from: IniValue | undefined, addLocal = true): string[] {
  const out: string[] = [];
  const local = file.replace(/\.[^./]*$/, '') + '.local';
  const list = [file];
  if (addLocal && local !== file && existsSync(local)) list.push(local);
  for (const f of list) {
    if (!existsSync(f)) {
      // fail2ban skips an include that does not exist (common.conf names an optional common.local).
      if (from) continue;
      throw new IniError(f, undefined, 'no such file');
    }
    const p = readOne(f, cache);
    const inc = p.sections.get('INCLUDES');
    const expand = (opt: string): string[] => {
      const v = inc?.get(opt);
      if (!v) return [];
      return v.value
        .split('\n')
        .map((x) => x.trim())
        .filter(Boolean)
        .flatMap((name) => {
          const r = path.isAbsolute(name) ? name : path.join(path.dirname(f), name);
          if (seen.includes(r) || r === f) return [];
          return withIncludes(r, cache, [...seen, f], v);
        });
    };
    out.push(...expand('before'), f, ...expand('after'));
  }
  return out;
}

/**
 * Reads `<base>.conf`, `<base>.d/*.conf`, `<base>.local`, `<base>.d/*.local` (those that
 * exist), each with its includes, merged in that order.
 */
export function readFail2banConfig(confFile: string): IniConfig {
  const base = confFile.replace(/\.(?:conf|local)$/, '');
  const dotD = `${base}.d`;
  const inDir = (ext: string): string[] => {
    try {
      return readdirSync(dotD)
        .filter((f) => f.endsWith(ext))
        .sort()
        .map((f) => path.join(dotD, f));
    } catch {
      return [];
    }
  };
  const cache = new Map<string, ParsedFile>();
  const cfg = new IniConfig();
  // fail2ban's order: NAME.conf, NAME.d/*.conf, NAME.local, NAME.d/*.local.
  const roots = [confFile, ...inDir('.conf'), ...(confFile !== `${base}.local` && existsSync(`${base}.local`) ? [`${base}.local`] : []), ...inDir('.local')];
  const files: string[] = [];
  for (const r of roots) for (const f of withIncludes(r, cache, [], undefined, false)) files.push(f);
  for (const f of files) {
    const p = readOne(f, cache);
    cfg.files.push(f);
    for (const [k, v] of p.defaults) cfg.defaults.set(k, v);
    for (const [name, sec] of p.sections) {
      const old = cfg.sections.get(name);
      if (old === undefined) {
        cfg.sections.set(name, new Map(sec));
        continue;
      }
      // What this file overrides stays reachable as %(known/name)s.
      const known = cfg.sections.get(`KNOWN/${name}`) ?? new Map<string, IniValue>();
      for (const k of sec.keys()) {
        const prev = old.get(k);
        if (prev !== undefined) known.set(k, prev);
      }
      cfg.sections.set(`KNOWN/${name}`, known);
      for (const [k, v] of sec) old.set(k, v);
    }
  }
  return cfg;
}
