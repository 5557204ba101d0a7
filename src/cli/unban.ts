// `pban unban TARGET…|--all [--jail J]`: lift bans. Unbanning what is not banned is not an error.
import type { Command } from 'commander';
import { request } from '../control/client.js';
import { UsageError } from '../errors.js';
import { targetToString } from '../events.js';
import { renderUnbanReply } from './format/reports.js';
import { displayCidr } from './format/target-text.js';
import { clientOptions, daemonCommand } from './socket-path.js';

export function unbanCommand(): Command {
  const cmd = daemonCommand('unban')
    .argument('[targets...]', 'addresses or CIDR networks')
    .option('--all', 'lift every ban (of one jail with --jail)')
    .option('-j, --jail <jail>', 'only in this jail');
  return cmd.action(async (texts: string[]) => {
    const o = cmd.opts<{ all?: boolean; jail?: string }>();
    if (o.all && texts.length > 0) throw new UsageError('unban: give targets or --all, not both');
    if (!o.all && texts.length === 0) throw new UsageError('unban: give at least one target, or --all');
    // Loaded here, not at start: only ban and unban parse targets.
    const { parseTarget } = await import('../control/target.js');
    const targets = texts.map((t) => {
      const r = parseTarget(t);
      if (!r.ok) throw new UsageError(r.error);
      return targetToString(r.target);
    });
    const args = { ...(o.all ? { all: true } : { targets }), ...(o.jail === undefined ? {} : { jail: o.jail }) };
    const reply = await request(await clientOptions(cmd), 'unban', args);
    process.stdout.write(renderUnbanReply(reply));
    if (reply.notBanned.length > 0) process.stderr.write(`pban: not banned${o.jail ? ` in ${o.jail}` : ''}: ${reply.notBanned.map(displayCidr).join(' ')}\n`);
  });
}
