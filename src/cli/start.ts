// `pban start -c CONFIG`: the daemon, in the foreground (systemd Type=simple). SIGTERM and
// SIGINT stop it cleanly, SIGHUP reloads the config without losing windows or bans.
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG } from './socket-path.js';

interface StartFlags {
  config: string;
  fromBeginning?: boolean;
  netns?: string;
  freshState?: boolean;
}

export function startCommand(): Command {
  return new Command('start')
    .description('run the daemon in the foreground: follow the logs, ban, and lift bans at expiry')
    .addOption(new Option('-c, --config <file>', 'config file').default(DEFAULT_CONFIG))
    .option('--from-beginning', 'read files that have no stored position from their beginning (default: only new lines)')
    .option('--fresh-state', 'start with no bans and no windows when the database pban had is missing, empty, unreadable or another one (it is moved aside, never deleted); a good database is kept')
    .option('--netns <name>', 'run firewall commands inside this network namespace (for testing)')
    .addHelpText(
      'after',
      `
Examples:
  pban start -c /etc/pban/pban.toml
  systemd: ExecStart=/usr/bin/pban start -c /etc/pban/pban.toml, ExecReload=/bin/kill -HUP $MAINPID

Logs go to stderr: JSON by default, one readable line per record on a terminal.`,
    )
    .action(async (flags: StartFlags) => {
      const [{ Daemon, prepareDaemon }, { createLogger }] = await Promise.all([import('../daemon.js'), import('../log.js')]);
      const commandPrefix = flags.netns ? ['ip', 'netns', 'exec', flags.netns] : undefined;
      // Built once, exactly as `pban check` builds it; its config gives the log level.
      const prepared = prepareDaemon(flags.config, { commandPrefix });
      const logger = createLogger({ level: prepared.runtime.config.pban.loglevel });
      const daemon = await Daemon.start({
        configFile: flags.config,
        prepared,
        logger,
        startAt: flags.fromBeginning ? 'beginning' : 'end',
        freshState: flags.freshState ?? false,
        commandPrefix,
      });
      const stop = (sig: string): void => {
        logger.info({ signal: sig }, 'daemon.stopping');
        void daemon.stop();
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => {
        daemon.reload().catch((err: Error) => logger.error({ err: err.message }, 'daemon.reloadRefused'));
      });
      await daemon.stopped;
      // A firewall command still hanging after the stop budget must not keep the process alive.
      process.exit(process.exitCode ?? 0);
    });
}
