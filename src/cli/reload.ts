// `pban reload`: the daemon rereads its config; an invalid one is refused and the old one keeps running.
import type { Command } from 'commander';
import { request } from '../control/client.js';
import { renderReloadReply } from './format/reports.js';
import { clientOptions, daemonCommand } from './socket-path.js';

export function reloadCommand(): Command {
  const cmd = daemonCommand('reload');
  return cmd.action(async () => {
    process.stdout.write(renderReloadReply(await request(await clientOptions(cmd), 'reload', {})));
  });
}
