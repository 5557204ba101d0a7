// Where the daemon's files are, for every part that needs to know: the default config, socket
// and database, and how a path written in the config resolves. The daemon (through
// src/config) and the CLI (which reads only `[pban] socket`) both call this module, so they
// always agree on the socket. Pure: no file is read here.
import path from 'node:path';

export const DEFAULT_CONFIG = '/etc/pban/pban.toml';
export const DEFAULT_SOCKET = '/run/pban/pban.sock';
export const DEFAULT_DATABASE = '/var/lib/pban/pban.sqlite';

/**
 * A path as written in the config file `configFile` (`[pban] socket`, `database`), made
 * absolute: a relative one is relative to the config file's directory, never to the working
 * directory of whoever reads it (systemd starts the daemon in /, an admin runs the CLI anywhere).
 */
export function configRelativePath(configFile: string, value: string): string {
  return path.resolve(path.dirname(path.resolve(configFile)), value);
}

/** The control socket named by a config file's `[pban] socket` value (undefined: not set). */
export function socketFromConfig(configFile: string, value: string | undefined): string {
  return value === undefined ? DEFAULT_SOCKET : configRelativePath(configFile, value);
}
