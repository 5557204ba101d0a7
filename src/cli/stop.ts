// `pban stop`: ask the daemon to shut down; bans stay in the store.
import type { Command } from 'commander';
import { request } from '../control/client.js';
import { clientOptions, daemonCommand } from './socket-path.js';

export function stopCommand(): Command {
  const cmd = daemonCommand('stop');
  return cmd.action(async () => {
    await request(await clientOptions(cmd), 'stop', {});
    process.stdout.write('pban is stopping\n');
  });
}
