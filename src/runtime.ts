// The one runtime builder. `pban check`, `pban start` and `pban reload` all come through here,
// so a config that checks fine is a config that starts, and a reload that would fail is refused
// before anything running is touched.
//
// Building has no side effects: filters are compiled, action runners are constructed (their
// parameters, ports and programs validated) but not started, nothing is opened or listened on.
// Each stage validates with its own rules (the filter loader, the action loader, the engine's
// policy check through the config loader); this module only gives each error the config line
// that caused it.
import type { Ban } from './events.js';
import { systemClock, type Clock } from './clock.js';
import { IgnoreCommand } from './ignore/command-runner.js';
import { loadConfig, type DaemonConfig, type JailConfig, type PbanConfig } from './config/index.js';
import type { JailProblem } from './config/types.js';
import { loadFilter, type CompiledFilter } from './filters/index.js';
import { createAction, type ActionLogger, type ActionRunner, type Executor } from './actions/index.js';
import { parseActionSpec } from './actions/spec.js';
import { BANS_FILTER, BANS_SOURCE } from './recidive.js';

/** One enabled jail, built: everything but its windows and bans, which come from the store. */
export interface JailParts {
  readonly cfg: JailConfig;
  readonly filter: CompiledFilter;
  /** Constructed, never started: the caller starts them, or keeps the running ones instead. */
  readonly actions: readonly ActionRunner[];
  /** The jail's `ignorecommand`, with an empty cache; null when it has none. */
  readonly ignorer: IgnoreCommand | null;
}

export interface Runtime {
  readonly config: PbanConfig;
  /** Enabled jails, in file order. */
  readonly jails: ReadonlyMap<string, JailParts>;
}

export interface BuildDeps {
  readonly logger?: ActionLogger;
  readonly clock?: Clock;
  /** Put in front of every firewall command (tests: ["ip", "netns", "exec", NS]). */
  readonly commandPrefix?: readonly string[];
  /** The active bans of a jail at the time an action asks (start, check, repair). */
  readonly activeBans?: (jail: string) => readonly Ban[];
  /** Told of every failed firewall command (the metrics count them). */
  readonly onActionFailure?: (jail: string, action: string, op: string) => void;
  /** Runs every command of the actions and ignore commands; default: each spawns its own (SpawnExecutor). */
  readonly executor?: Executor;
}

/** Builds the runtime of a config file, or throws one ConfigError naming the file and line. */
export function buildRuntime(file: string, deps: BuildDeps = {}): Runtime {
  const jails = new Map<string, JailParts>();
  const config = loadConfig(file, {
    buildJail(cfg: JailConfig, pban: DaemonConfig): JailProblem | undefined {
      const built = buildJail(cfg, pban, deps);
      if ('problem' in built) return built.problem;
      jails.set(cfg.name, built);
      return undefined;
    },
  });
  return { config, jails };
}

function buildJail(cfg: JailConfig, pban: DaemonConfig, deps: BuildDeps): JailParts | { problem: JailProblem } {
  let filter: CompiledFilter;
  try {
    filter = cfg.source === BANS_SOURCE ? BANS_FILTER : loadFilter(cfg.filter, { timezone: pban.timezone });
  } catch (err) {
    return { problem: { key: 'filter', message: (err as Error).message } };
  }
  const actions = buildActions(cfg, pban, deps);
  if ('problem' in actions) return actions;
  const log = deps.logger ?? { warn: () => undefined, debug: () => undefined };
  const ignorer = cfg.ignoreCommand === null ? null : new IgnoreCommand(cfg.ignoreCommand, { jail: cfg.name, clock: deps.clock ?? systemClock, log, executor: deps.executor });
  return { cfg, filter, actions, ignorer };
}

/** A jail's action runners, constructed and never started (also for a retired jail, see retired-jails.ts). */
export function buildActions(
  cfg: Pick<JailConfig, 'name' | 'actions' | 'ports' | 'protocol' | 'policy'>,
  pban: DaemonConfig,
  deps: BuildDeps,
): ActionRunner[] | { problem: JailProblem } {
  const actions: ActionRunner[] = [];
  for (const [index, text] of cfg.actions.entries()) {
    const spec = parseActionSpec(text);
    if ('error' in spec) return { problem: { key: 'action', index, message: spec.error } };
    let runner: ActionRunner;
    try {
      runner = createAction(spec.ref, {
        params: spec.params,
        jail: cfg.name,
        ports: cfg.ports === 'all' ? [] : cfg.ports,
        protocol: cfg.protocol,
        commandPrefix: deps.commandPrefix,
        executor: deps.executor,
        networkPrefixes: cfg.policy.subnet.enabled ? { 4: cfg.policy.subnet.ipv4Prefix, 6: cfg.policy.subnet.ipv6Prefix } : undefined,
        checkIntervalMs: pban.checkInterval,
        clock: deps.clock,
        logger: deps.logger,
        activeBans: () => deps.activeBans?.(cfg.name) ?? [],
        onFailure: (op, action) => deps.onActionFailure?.(cfg.name, action, op),
      });
    } catch (err) {
      return { problem: { key: 'action', index, message: (err as Error).message } };
    }
    // A jail whose firewall program is missing would fail at every ban: refused here, so
    // `pban check` says so before a deploy and `pban start` never runs unprotected.
    const missing = runner.missingPrograms();
    if (missing !== undefined) return { problem: { key: 'action', index, message: missing } };
    actions.push(runner);
  }
  return actions;
}
