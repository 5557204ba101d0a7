// `pban ban JAIL TARGET [--time 2h]`: a manual ban.
import type { Command } from 'commander';
import { request } from '../control/client.js';
import { UsageError } from '../errors.js';
import { targetToString } from '../events.js';
import { renderBanReply } from './format/reports.js';
import { parseDuration } from './format/time.js';
import { clientOptions, daemonCommand } from './socket-path.js';

export function banCommand(): Command {
  const cmd = daemonCommand('ban')
    .argument('<jail>', 'the jail that holds the ban')
    .argument('<target>', 'an IPv4/IPv6 address or a CIDR network (198.51.100.0/24, 2001:db8::/64)')
    .option('-t, --time <duration>', "how long: 90s, 10m, 2h, 1d, 1w, or permanent (default: the jail's bantime)");
  return cmd.action(async (jail: string, targetText: string) => {
    // Loaded here, not at start: only ban and unban parse targets.
    const { parseTarget } = await import('../control/target.js');
    const parsed = parseTarget(targetText);
    if (!parsed.ok) throw new UsageError(parsed.error);
    const time = cmd.opts<{ time?: string }>().time;
    let timeMs: number | null | undefined;
    if (time !== undefined) {
      const d = parseDuration(time);
      if ('error' in d) throw new UsageError(`--time: ${d.error}`);
      timeMs = d.ms;
    }
    const args = { jail, target: targetToString(parsed.target), ...(timeMs === undefined ? {} : { timeMs }) };
    const reply = await request(await clientOptions(cmd), 'ban', args);
    process.stdout.write(renderBanReply(reply.ban));
  });
}
