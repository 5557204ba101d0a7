// `pban import fail2ban [DIR]`: prints a pban config (TOML) for fail2ban's enabled jails;
// what cannot be carried over is a comment in it and a line on stderr.
import { Command } from 'commander';
import { ConfigError } from '../errors.js';

export function importCommand(): Command {
  return new Command('import')
    .description("print a pban config (TOML) made from another tool's configuration")
    .argument('<tool>', 'the tool to import from: fail2ban')
    .argument('[dir]', "its configuration directory (fail2ban: /etc/fail2ban)")
    .action(async (tool: string, dir: string | undefined) => {
      if (tool !== 'fail2ban') throw new ConfigError('import.unknown', tool, undefined, 'unknown tool (pban imports from: fail2ban)', { exitCode: 2 });
      const [{ importFail2ban }, { IniError }] = await Promise.all([import('../import/fail2ban.js'), import('../filters/fail2ban/ini.js')]);
      let r;
      try {
        r = importFail2ban(dir ?? '/etc/fail2ban');
      } catch (err) {
        if (err instanceof IniError) throw new ConfigError('import.invalid', err.file, err.line, err.message);
        throw err;
      }
      process.stdout.write(r.toml);
      for (const w of r.warnings) process.stderr.write(`pban: import: ${w}\n`);
    });
}
