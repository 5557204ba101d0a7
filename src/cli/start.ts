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

Logs go to stderr: [pban] logformat = "json" or "text" (default: text on a terminal, JSON
otherwise). Under systemd each line carries its syslog priority, so journalctl -p works.`,
    )
    .action(async (flags: StartFlags) => {
      const [{ Daemon, prepareDaemon }, { createLogger }] = await Promise.all([import('../daemon.js'), import('../log.js')]);
      const commandPrefix = flags.netns ? ['ip', 'netns', 'exec', flags.netns] : undefined;
      // Built once, exactly as `pban check` builds it; its config gives the log level and format.
      const prepared = prepareDaemon(flags.config, { commandPrefix });
      const { config } = prepared.runtime;
      const logger = createLogger({ level: config.pban.loglevel, format: config.pban.logformat });
      // The handlers are in place before the start can log `daemon.started`: a SIGTERM sent as soon
      // as the daemon says it is up (systemd, a test) must stop it cleanly, not kill it.
      // The daemon stops on it during its start too: a hung firewall command does not hold it.
      let daemon: Awaited<ReturnType<typeof Daemon.start>> | undefined;
      const stopping = new AbortController();
      const stop = (sig: string): void => {
        logger.info({ signal: sig }, 'daemon.stopping');
        stopping.abort();
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => {
        daemon?.reload().catch((err: Error) => logger.error({ err: err.message }, 'daemon.reloadRefused'));
      });
      daemon = await Daemon.start({
        configFile: flags.config,
        prepared,
        logger,
        startAt: flags.fromBeginning ? 'beginning' : 'end',
        freshState: flags.freshState ?? false,
        commandPrefix,
        signal: stopping.signal,
      });
      await daemon.stopped;
      // A firewall command still hanging after the stop budget must not keep the process alive.
      process.exit(process.exitCode ?? 0);
    });
}
