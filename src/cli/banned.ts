// `pban banned [JAIL]`: the active bans, with why and until when.
import type { Command } from 'commander';
import { pipeJson, request } from '../control/client.js';
import { paletteFor } from './format/color.js';
import { renderBanned } from './format/reports.js';
import { clientOptions, daemonCommand } from './socket-path.js';
import { systemClock } from '../clock.js';

export function bannedCommand(): Command {
  const cmd = daemonCommand('banned').argument('[jail]', 'list only the bans of this jail');
  return cmd.action(async (jail: string | undefined) => {
    const opts = await clientOptions(cmd);
    const args = jail === undefined ? {} : { jail };
    if (cmd.opts<{ json?: boolean }>().json) {
      // Passed through as the daemon wrote it (one ban per line): no parse, no re-encode.
      await pipeJson(opts, 'banned', args, process.stdout);
      return;
    }
    const bans = await request(opts, 'banned', args);
    process.stdout.write(renderBanned(bans, systemClock.now(), paletteFor(process.stdout)));
  });
}
