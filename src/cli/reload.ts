// `pban reload`: the daemon rereads its config; an invalid one is refused and the old one keeps running.
import type { Command } from 'commander';
import { request } from '../control/client.js';
import { renderKeptWarning, renderReloadReply } from './format/reports.js';
import { clientOptions, daemonCommand } from './socket-path.js';

export function reloadCommand(): Command {
  const cmd = daemonCommand('reload').option('--lift-removed', 'also lift the manual and permanent bans of jails no longer in the config');
  return cmd.action(async () => {
    const o = cmd.opts<{ liftRemoved?: boolean }>();
    const reply = await request(await clientOptions(cmd), 'reload', o.liftRemoved ? { liftRemoved: true } : {});
    process.stdout.write(renderReloadReply(reply));
    // Kept bans of removed jails are a warning: the admin should decide about them.
    if (reply.kept.length > 0) process.stderr.write(renderKeptWarning(reply));
  });
}
