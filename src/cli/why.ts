// `pban why TARGET [--json]`: every active ban that blocks an address (bans on networks that
// contain it included, in every jail), with the lines that led to each; and if none does,
// whether it is failing somewhere. Exit code 0 either way: the answer is the output.
import type { Command } from 'commander';
import { request } from '../control/client.js';
import { UsageError } from '../errors.js';
import { targetToString } from '../events.js';
import { renderWhy } from './format/why.js';
import { clientOptions, daemonCommand } from './socket-path.js';
import { systemClock } from '../clock.js';

export function whyCommand(): Command {
  const cmd = daemonCommand('why').argument('<target>', 'an address (or a CIDR network)');
  return cmd.action(async (text: string) => {
    const { parseTarget } = await import('../control/target.js');
    const r = parseTarget(text);
    if (!r.ok) throw new UsageError(r.error);
    const reply = await request(await clientOptions(cmd), 'why', { target: targetToString(r.target) });
    if (cmd.opts<{ json?: boolean }>().json) process.stdout.write(JSON.stringify(reply) + '\n');
    else process.stdout.write(renderWhy(reply, systemClock.now()));
  });
}
