// `pban version`: this command's version and the running daemon's. (`pban --version` needs no daemon.)
import type { Command } from 'commander';
import { request } from '../control/client.js';
import { PROTOCOL_VERSION } from '../control/protocol.js';
import { VERSION } from '../version.js';
import { renderVersion } from './format/reports.js';
import { clientOptions, daemonCommand } from './socket-path.js';

export function versionCommand(): Command {
  const cmd = daemonCommand('version');
  return cmd.action(async () => {
    const json = cmd.opts<{ json?: boolean }>().json === true;
    let daemon;
    try {
      daemon = await request(await clientOptions(cmd), 'version', {});
    } catch (err) {
      // Still say which pban this is; the error (daemon down, …) follows on stderr and sets the exit code.
      if (!json) process.stdout.write(`pban ${VERSION}\n`);
      throw err;
    }
    if (json) process.stdout.write(JSON.stringify({ cli: { version: VERSION, protocol: PROTOCOL_VERSION }, daemon }) + '\n');
    else process.stdout.write(renderVersion(VERSION, daemon));
  });
}
