// `pban status [JAIL]`: every jail at a glance, or one jail as fail2ban's tree.
import type { Command } from 'commander';
import { pipeJson, request } from '../control/client.js';
import type { DaemonStatus, JailStatus } from '../control/types.js';
import { paletteFor } from './format/color.js';
import { renderDaemonStatus, renderJailStatus } from './format/reports.js';
import { clientOptions, daemonCommand } from './socket-path.js';

export function statusCommand(): Command {
  const cmd = daemonCommand('status').argument('[jail]', 'show only this jail, as a fail2ban-style tree');
  return cmd.action(async (jail: string | undefined) => {
    const opts = await clientOptions(cmd);
    const args = jail === undefined ? {} : { jail };
    if (cmd.opts<{ json?: boolean }>().json) {
      await pipeJson(opts, 'status', args, process.stdout);
      return;
    }
    const data = await request(opts, 'status', args);
    process.stdout.write(jail === undefined ? renderDaemonStatus(data as DaemonStatus, paletteFor(process.stdout)) : renderJailStatus(data as JailStatus));
  });
}
