// `pban banned [JAIL]`: the active bans, with why and until when.
import type { Command } from 'commander';
import { pipeJson, request } from '../control/client.js';
import { paletteFor } from './format/color.js';
import { renderBanned } from './format/reports.js';
import { clientOptions, daemonCommand } from './socket-path.js';
import { systemClock } from '../clock.js';
import { UsageError } from '../errors.js';

export function bannedCommand(): Command {
  const cmd = daemonCommand('banned').argument('[jail]', 'list only the bans of this jail');
  return cmd.action(async (jail: string | undefined) => {
    // `pban banned 192.0.2.15` is a question about an address: point to the command that answers it.
    if (jail !== undefined && /^[0-9a-fA-F:.]+(\/\d+)?$/.test(jail) && /[.:]/.test(jail)) {
      const { parseTarget } = await import('../control/target.js');
      if (parseTarget(jail).ok) throw new UsageError(`banned: "${jail}" is an address, not a jail; to see what blocks it: pban why ${jail}`);
    }
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
