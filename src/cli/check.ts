// `pban check -c CONFIG`: validates a config the way `pban start` would (every filter compiled,
// every action loaded), without starting anything. For a pre-deploy check, like `nginx -t`.
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG } from './socket-path.js';

interface CheckFlags {
  config: string;
  json?: boolean;
}

export function checkCommand(): Command {
  return new Command('check')
    .description('validate a config file (filters compiled, actions loaded) and summarise its jails; starts nothing')
    .addOption(new Option('-c, --config <file>', 'config file').default(DEFAULT_CONFIG))
    .option('--json', 'print the summary as one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  pban check -c /etc/pban/pban.toml && systemctl reload pban
Exit code 0 when the config is valid, 1 with one line naming the file and line otherwise.`,
    )
    .action(async (flags: CheckFlags) => {
      // The same build as `pban start`: filters compiled, actions constructed, nothing started.
      const { prepareDaemon } = await import('../daemon.js');
      const { config } = prepareDaemon(flags.config).runtime;
      const jails = config.jails.map((j) => ({
        name: j.name,
        enabled: j.enabled,
        filter: j.filter,
        logpath: j.logpath.map((p) => ({ path: p, exists: /[*?[]/.test(p) ? null : existsSync(p) })),
        journal: j.journal,
        actions: j.actions,
        ports: j.ports,
        findtime: j.policy.findtime,
        maxretry: j.policy.maxretry,
        bantime: j.policy.bantime,
        subnet: j.policy.subnet.enabled,
      }));
      if (flags.json) {
        process.stdout.write(JSON.stringify({ file: config.file, ok: true, database: config.pban.database, socket: config.pban.socket, jails }) + '\n');
        return;
      }
      const lines = [`${config.file}: OK, ${jails.filter((j) => j.enabled).length} enabled jail(s)`];
      for (const j of jails) {
        lines.push(`  ${j.name}${j.enabled ? '' : ' (disabled)'}: filter ${j.filter}, actions ${j.actions.join(', ') || 'none'}, maxretry ${j.maxretry}${j.subnet ? ', subnets on' : ''}`);
        for (const l of j.logpath) lines.push(`    ${l.path}${l.exists === false ? '  (does not exist yet: pban will wait for it)' : ''}`);
        if (j.journal) lines.push(`    journal${j.journal.directory ? ` in ${j.journal.directory}` : ''}: ${j.journal.matches.join(' ')}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
