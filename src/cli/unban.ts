// `pban unban TARGET…|--all [--jail J]`: lift bans. Unbanning what is not banned is not an error;
// but a target that a ban on a wider network still blocks is never left at "not banned": the
// covering networks are named with the command that lifts them, and the exit code is 4.
import type { Command } from 'commander';
import { request } from '../control/client.js';
import { UsageError } from '../errors.js';
import { targetToString } from '../events.js';
import { renderUnbanReply } from './format/reports.js';
import { renderStillBlocked } from './format/why.js';
import { displayCidr } from './format/target-text.js';
import { clientOptions, daemonCommand } from './socket-path.js';

/** `pban unban`: a target stays blocked by a ban on a network that contains it (docs/cli.md). */
export const EXIT_STILL_BLOCKED = 4;

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
    const client = await clientOptions(cmd);
    const reply = await request(client, 'unban', args);
    process.stdout.write(renderUnbanReply(reply));
    // After the lift, in every jail: what still blocks each target is a ban on a wider network.
    const blocked = new Set<string>();
    for (const t of o.all ? [] : targets) {
      const why = await request(client, 'why', { target: t });
      // (A ban on the target itself is left only in another jail than --jail.)
      if (why.bans.length === 0) continue;
      blocked.add(t);
      process.stderr.write(renderStillBlocked(t, why.bans));
    }
    const notBanned = reply.notBanned.filter((t) => !blocked.has(t));
    if (notBanned.length > 0) process.stderr.write(`pban: not banned${o.jail ? ` in ${o.jail}` : ''}: ${notBanned.map(displayCidr).join(' ')}\n`);
    if (blocked.size > 0) process.exitCode = EXIT_STILL_BLOCKED;
  });
}
