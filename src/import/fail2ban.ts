// `pban import fail2ban [DIR]`: reads fail2ban's jail configuration (jail.conf, jail.d/*.conf,
// jail.local, jail.d/*.local, with their includes, fail2ban's precedence and interpolation)
// and writes a pban config (TOML) for the enabled jails. What cannot be carried over becomes
// a comment in the output and a warning. Pure apart from reading the files.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { IniError, readFail2banConfig, type IniConfig } from '../filters/fail2ban/ini.js';
import { readFail2banFilter } from '../filters/fail2ban/definition.js';
import { NATIVE_FILTER_ALIASES } from '../filters/fail2ban/names.js';
import { parseFilterSpec } from '../filters/spec.js';

export interface ImportResult {
  readonly toml: string;
  readonly warnings: readonly string[];
}

const NATIVE_FILTERS = new Set(['postfix', 'dovecot']);
const SKIP_SECTIONS = new Set(['INCLUDES', 'DEFAULT']);

/** fail2ban time (`10m`, `600`, `1h30m`, `-1`, `2 days`) → pban duration, or null. */
export function convertDuration(text: string): string | null {
  const t = text.trim().toLowerCase();
  if (t === '-1') return '-1';
  if (/^\d+$/.test(t)) return `${t}s`;
  const words: Record<string, string> = { s: 's', sec: 's', second: 's', seconds: 's', m: 'm', min: 'm', minute: 'm', minutes: 'm', h: 'h', hour: 'h', hours: 'h', d: 'd', day: 'd', days: 'd', w: 'w', week: 'w', weeks: 'w' };
  let out = '';
  let rest = t;
  while (rest !== '') {
    const m = /^(\d+)\s*([a-z]+)\s*/.exec(rest);
    if (!m) return null;
    const unit = words[m[2] as string];
    if (unit === undefined) return null;
    out += `${m[1]}${unit}`;
    rest = rest.slice(m[0].length);
  }
  return out === '' ? null : out;
}

/** fail2ban `port` (`ssh`, `http,https`, `0:65535`, `8000:8080`) → pban ports. */
function convertPorts(text: string): 'all' | string[] {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0 || parts.some((p) => p === '0:65535' || p === '1:65535' || p === 'all')) return 'all';
  return parts.map((p) => p.replace(':', '-'));
}

/** fail2ban action name → pban action, or null when pban has none. */
function mapAction(name: string): { action: string; note?: string } | null {
  if (/^iptables-ipset/.test(name) || name === 'shorewall-ipset-proto6') return { action: 'ipset' };
  if (/^iptables/.test(name)) return { action: 'iptables' };
  if (/^nftables/.test(name)) return { action: 'nftables' };
  if (/^firewallcmd-/.test(name)) return { action: 'nftables', note: `${name}: firewalld's own rules are not used; pban keeps its nftables table beside firewalld's` };
  if (name === 'dummy') return { action: 'dry-run' };
  return null;
}

function toml(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(toml).join(', ')}]`;
  throw new Error(`cannot write ${String(v)} as TOML`);
}

function isTrue(v: string | undefined): boolean {
  return v !== undefined && /^(?:true|yes|on|1|enabled)$/i.test(v.trim());
}

function safeGet(cfg: IniConfig, section: string, option: string): string | undefined {
  try {
    return cfg.get(section, option);
  } catch (err) {
    if (err instanceof IniError) return undefined;
    throw err;
  }
}

/** Reads fail2ban's jails under `dir` (default /etc/fail2ban) and writes pban's config. */
export function importFail2ban(dir: string): ImportResult {
  const jailConf = path.join(dir, 'jail.conf');
  if (!existsSync(jailConf) && !existsSync(path.join(dir, 'jail.local'))) {
    throw new IniError(jailConf, undefined, 'no jail.conf or jail.local: not a fail2ban configuration directory');
  }
  const cfg = readFail2banConfig(existsSync(jailConf) ? jailConf : path.join(dir, 'jail.local'));
  const filterDir = path.join(dir, 'filter.d');
  const warnings: string[] = [];
  const out: string[] = [
    `# pban configuration imported from fail2ban (${dir}) by \`pban import fail2ban\`.`,
    '# Check it with `pban check -c FILE`, and try it with `pban replay` before starting pban.',
    '',
    '[pban]',
    `fail2ban_filter_dir = ${toml(path.resolve(filterDir))}`,
    '',
  ];
  const jails: string[] = [];
  for (const section of cfg.sections.keys()) {
    if (SKIP_SECTIONS.has(section) || section.startsWith('KNOWN/')) continue;
    if (!isTrue(safeGet(cfg, section, 'enabled'))) continue;
    const lines: string[] = [];
    const comments: string[] = [];
    const warn = (what: string) => {
      warnings.push(`jail ${section}: ${what}`);
      comments.push(`# not carried over: ${what}`);
    };
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$/.test(section)) {
      warnings.push(`jail ${section}: the name is not a valid pban jail name (letters, digits, "_", "-", at most 20): skipped`);
      continue;
    }
    // fail2ban's recidive reads fail2ban's own log for "Ban" lines; pban's jail with
    // source = "bans" counts the other jails' bans directly (src/recidive.ts), on every port.
    const filterText = (safeGet(cfg, section, 'filter') ?? section).split('\n')[0]?.trim() ?? section;
    const recidive = /^(?:fail2ban:)?recidive(?:\[.*\])?$/.test(filterText);
    if (recidive) lines.push(`source = ${toml('bans')}`);
    else {
      // filter
      const spec = parseFilterSpec(filterText.startsWith('fail2ban:') ? filterText : `fail2ban:${filterText}`);
      if ('error' in spec) {
        warn(`filter "${filterText}": ${spec.error}`);
        jails.push(`# [jails.${section}] skipped: ${spec.error}`, '');
        continue;
      }
      let pbanFilter: string;
      const alias = NATIVE_FILTER_ALIASES[spec.ref];
      if (NATIVE_FILTERS.has(spec.ref) || alias) {
        const ref = alias?.ref ?? spec.ref;
        const mode = spec.options.get('mode') ?? alias?.mode;
        pbanFilter = mode === undefined ? ref : `${ref}[mode=${mode}]`;
        for (const k of spec.options.keys()) if (k !== 'mode') warn(`filter option ${k}=${spec.options.get(k)} (pban's native ${ref} filter takes a mode only)`);
      } else {
        pbanFilter = filterText.startsWith('fail2ban:') ? filterText : `fail2ban:${filterText}`;
        if (!existsSync(path.join(filterDir, `${spec.ref}.conf`)) && !existsSync(path.join(filterDir, `${spec.ref}.local`))) warn(`filter ${spec.ref}: no ${spec.ref}.conf in ${filterDir}`);
      }
      lines.push(`filter = ${toml(pbanFilter)}`);
      // log source
      const backend = (safeGet(cfg, section, 'backend') ?? 'auto').trim();
      if (backend.startsWith('systemd')) {
        let jm = safeGet(cfg, section, 'journalmatch');
        if (jm === undefined) {
          try {
            jm = readFail2banFilter(path.join(filterDir, `${spec.ref}.conf`), spec.options).journalmatch.join(' + ');
          } catch {
            jm = undefined;
          }
        }
        if (!jm) {
          warn('backend = systemd without a journalmatch (pban reads the whole journal only through an explicit journalmatch)');
          jails.push(...comments.map((c) => c), `# [jails.${section}] skipped: no journalmatch`, '');
          continue;
        }
        lines.push(`journalmatch = ${toml(jm.split('\n').map((x) => x.trim()).filter(Boolean))}`);
      } else {
        const lp = (safeGet(cfg, section, 'logpath') ?? '').split('\n').map((x) => x.trim().replace(/\s+(?:head|tail)$/, '')).filter(Boolean);
        if (lp.length === 0) {
          warn('no logpath');
          jails.push(`# [jails.${section}] skipped: no logpath`, '');
          continue;
        }
        lines.push(`logpath = ${toml(lp)}`);
        if (backend !== 'auto' && backend !== 'polling' && backend !== 'pyinotify' && backend !== 'gamin') warn(`backend = ${backend}`);
      }
    }
    // policy
    for (const [key, f2b] of [
      ['findtime', 'findtime'],
      ['bantime', 'bantime'],
    ] as const) {
      const v = safeGet(cfg, section, f2b);
      if (v === undefined) continue;
      const d = convertDuration(v);
      if (d === null) warn(`${f2b} = ${v} (not a duration pban reads)`);
      else lines.push(`${key} = ${toml(d)}`);
    }
    const maxretry = safeGet(cfg, section, 'maxretry');
    if (maxretry !== undefined) {
      if (/^\d+$/.test(maxretry.trim()) && Number(maxretry) > 0) lines.push(`maxretry = ${Number(maxretry)}`);
      else warn(`maxretry = ${maxretry}`);
    }
    if (isTrue(safeGet(cfg, section, 'bantime.increment'))) {
      const inc: string[] = ['enabled = true'];
      const factor = safeGet(cfg, section, 'bantime.factor');
      if (factor !== undefined && /^\d+(?:\.\d+)?$/.test(factor.trim())) inc.push(`factor = ${Number(factor)}`);
      const maxtime = safeGet(cfg, section, 'bantime.maxtime');
      const mt = maxtime === undefined || maxtime.trim() === '' ? null : convertDuration(maxtime);
      if (mt !== null) inc.push(`maxtime = ${toml(mt)}`);
      for (const k of ['bantime.formula', 'bantime.multipliers', 'bantime.rndtime', 'bantime.overalljails']) {
        const v = safeGet(cfg, section, k);
        if (v !== undefined && v.trim() !== '' && !(k === 'bantime.overalljails' && !isTrue(v))) warn(`${k} = ${v.split('\n')[0]} (pban's increment is bantime · factor^(n−1) per jail)`);
      }
      lines.push(`bantime_increment = { ${inc.join(', ')} }`);
    }
    const ignoreip = safeGet(cfg, section, 'ignoreip');
    if (ignoreip !== undefined && ignoreip.trim() !== '') {
      const items = ignoreip.split(/[\s,]+/).filter(Boolean);
      const ok = items.filter((x) => /^[0-9a-fA-F:.]+(?:\/\d+)?$/.test(x));
      for (const x of items) if (!ok.includes(x)) warn(`ignoreip entry ${x} (pban ignores addresses and networks only, no host names or files)`);
      if (ok.length > 0) lines.push(`ignoreip = ${toml(ok)}`);
    }
    const port = safeGet(cfg, section, 'port');
    // A recidive ban blocks every port (fail2ban's banaction_allports): pban's default for it.
    if (port !== undefined && !recidive) {
      const p = convertPorts(port);
      lines.push(`ports = ${p === 'all' ? toml('all') : toml(p)}`);
    }
    const protocol = safeGet(cfg, section, 'protocol');
    if (protocol !== undefined) {
      const pr = protocol.trim();
      if (pr === 'tcp' || pr === 'udp') lines.push(`protocol = ${toml(pr)}`);
      else warn(`protocol = ${pr} (pban: tcp or udp)`);
    }
    // actions
    const actionText = safeGet(cfg, section, 'action') ?? '';
    const actions: string[] = [];
    for (const a of actionText.split('\n').map((x) => x.trim()).filter(Boolean)) {
      const name = /^[\w.-]+/.exec(a)?.[0] ?? a;
      const mapped = mapAction(name);
      if (mapped === null) {
        warn(`action ${name}${/^(?:sendmail|mail)/.test(name) ? ' (for mail, use the "command" action: see the notification example in actions/README.md)' : ''}`);
        continue;
      }
      if (mapped.note) warn(mapped.note);
      if (!actions.includes(mapped.action)) actions.push(mapped.action);
    }
    if (actions.length === 0) {
      warn('no action pban can run: the jail only logs (dry-run) until you give it one');
      actions.push('dry-run');
    }
    lines.push(`action = ${toml(actions)}`);
    for (const k of ['ignorecommand', 'ignoreself', 'usedns', 'maxlines', 'datepattern', 'logencoding', 'maxmatches']) {
      const v = safeGet(cfg, section, k);
      if (k === 'ignoreself' && (v === undefined || isTrue(v))) continue;
      if (k === 'usedns' || k === 'logencoding' || k === 'maxmatches') continue; // pban never resolves names; reads UTF-8; keeps no matches
      if (v !== undefined && v.trim() !== '') warn(`${k} = ${v.split('\n')[0]}`);
    }
    jails.push(`[jails.${section}]`, 'enabled = true', ...lines, ...comments, '');
  }
  out.push(...jails);
  if (jails.length === 0) warnings.push('no enabled jail found');
  return { toml: `${out.join('\n').replace(/\n+$/, '')}\n`, warnings };
}
