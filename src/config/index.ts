// The config module's public face: load a file, or parse text (tests), plus the helpers
// other commands reuse (durations for CLI flags, targets for `pban ban`).
export { loadConfig, parseConfigText, BUILTIN_DAEMON } from './load.js';
export { LOG_FORMATS, LOG_LEVELS } from './types.js';
export { parseDuration, formatDuration, DURATION_HINT, type Duration } from './duration.js';
export { parseTarget } from '../cidr.js';
export type { PbanConfig, JailConfig, JailJournal, DaemonConfig, LoadOptions, LogFormat, LogLevel, Ports, Protocol } from './types.js';
