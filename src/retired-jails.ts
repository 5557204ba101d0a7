// What happens to the bans of a jail that is no longer in the config (removed or renamed).
//
// The rule: an admin's verdicts are never lifted silently. A removed jail's automatic bans
// with an end (it made them from log lines; they would expire anyway) are lifted, reason
// "jail-removed". Its manual bans and its permanent bans stay in force: the jail is kept as a
// *retired* jail that reads no log and makes no ban, and its kept bans stay in the kernel through
// the same actions, ports and protocol the jail had (stored with the jail, so a start with a
// config that no longer has it rebuilds the same firewall). The reload reply, the CLI and a
// warning in the log list every kept ban. They end by their own time, by `pban unban`, or all at
// once by `pban reload --lift-removed`; a retired jail with no ban left goes away.
import type { Ban } from './events.js';
import type { CompiledFilter } from './filters/index.js';
import { silentFilter } from './filters/silent.js';
import type { JailConfig, Ports, Protocol } from './config/index.js';
import type { JailPolicy } from './engine/policy.js';

/** Whether a ban of a removed jail is kept in force (the one owner of the rule above). */
export function keptWhenJailRemoved(ban: Pick<Ban, 'kind' | 'until'>): boolean {
  return ban.kind === 'manual' || ban.until === null;
}

/** How a jail drives the firewall: stored with the jail so a retired jail keeps the same. */
export interface JailFirewall {
  readonly actions: readonly string[];
  readonly ports: Ports;
  readonly protocol: Protocol;
}

export function firewallOf(cfg: Pick<JailConfig, 'actions' | 'ports' | 'protocol'>): JailFirewall {
  return { actions: [...cfg.actions], ports: cfg.ports === 'all' ? 'all' : [...cfg.ports], protocol: cfg.protocol };
}

/** A stored firewall, or null when the text is not one (a store written by an older pban has none). */
export function parseJailFirewall(text: string | null): JailFirewall | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<JailFirewall>;
    const okPorts = v.ports === 'all' || (Array.isArray(v.ports) && v.ports.every((p) => typeof p === 'string'));
    const okActions = Array.isArray(v.actions) && v.actions.length > 0 && v.actions.every((a) => typeof a === 'string');
    if (!okPorts || !okActions || (v.protocol !== 'tcp' && v.protocol !== 'udp')) return null;
    return { actions: v.actions!, ports: v.ports!, protocol: v.protocol };
  } catch {
    return null;
  }
}

/**
 * The policy of a retired jail. It never counts a failure; the policy only shapes how its stored
 * bans are restored (remember: forever, so no history is dropped).
 */
export function retiredPolicy(name: string): JailPolicy {
  return {
    name,
    findtime: 600_000,
    maxretry: 1,
    bantime: 3_600_000,
    increment: { enabled: false, factor: 1, maxtime: null, remember: Number.MAX_SAFE_INTEGER },
    subnet: { enabled: false, ipv4Prefix: 24, ipv6Prefix: 64, maxretry: 1, minAddresses: 1, bantime: 3_600_000 },
    ignore: [],
  };
}

/** The config of a retired jail: no log, no journal, the firewall it had. */
export function retiredJailConfig(name: string, fw: JailFirewall, policy: JailPolicy = retiredPolicy(name)): JailConfig {
  return { name, enabled: true, filter: RETIRED_FILTER.name, logpath: [], journal: null, actions: fw.actions, ports: fw.ports, protocol: fw.protocol, policy, ignoreCommand: null };
}

/** A retired jail reads no log: its filter never matches (it is only named in `pban status`). */
export const RETIRED_FILTER: CompiledFilter = silentFilter('retired', 'a jail no longer in the config, holding its manual and permanent bans');
