// `pban status [JAIL]`: every jail at a glance, or one jail as fail2ban's tree.
import type { Command } from 'commander';
import { pipeJson, request } from '../control/client.js';
import type { DaemonStatus, JailStatus } from '../control/types.js';
import { paletteFor } from './format/color.js';
import { renderDaemonStatus, renderJailStatus } from './format/reports.js';
import { clientOptions, daemonCommand } from './socket-path.js';

/** `pban status` when the daemon runs but a source, an action or the store fails (see docs/cli.md). */
export const EXIT_UNHEALTHY = 3;

export function statusCommand(): Command {
  const cmd = daemonCommand('status').argument('[jail]', 'show only this jail, as a fail2ban-style tree');
  return cmd.action(async (jail: string | undefined) => {
    const opts = await clientOptions(cmd);
    const args = jail === undefined ? {} : { jail };
    if (jail !== undefined && cmd.opts<{ json?: boolean }>().json) {
      await pipeJson(opts, 'status', args, process.stdout);
      return;
    }
    const data = await request(opts, 'status', args);
    if (jail !== undefined) {
      process.stdout.write(renderJailStatus(data as JailStatus));
      return;
    }
    const s = data as DaemonStatus;
    if (cmd.opts<{ json?: boolean }>().json) process.stdout.write(JSON.stringify(s) + '\n');
    else process.stdout.write(renderDaemonStatus(s, paletteFor(process.stdout)));
    // For monitoring: running but not protecting as configured is not "0, all fine".
    if (!s.health.ok) process.exitCode = EXIT_UNHEALTHY;
  });
}
