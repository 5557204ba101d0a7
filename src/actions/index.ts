// The actions stage: what the daemon, the scheduler and `pban status` use.
//
//   const action = createAction('nftables', { jail: 'postfix', ports: [25, 465, 587],
//     activeBans: () => store.activeBans('postfix') });
//   await action.start();                 // table + sets + rule, every active ban, one batch
//   await action.ban(bans);               // one `nft -f -` for the lot
//   await action.unban(targets);
//   action.health();                      // { state: 'healthy' | 'unhealthy' | 'stopped', lastError, … }
//   await action.stop();                  // removes only what pban created
import { loadAction } from './definition.js';
import { ActionRunner, type ActionOptions } from './runner.js';

export { ActionRunner } from './runner.js';
export type { ActionOptions, ActionHealth, ActionState, ActiveBansProvider, ActionLogger } from './runner.js';
export { loadAction, loadActionFile, parseActionDefinition, resolveActionFile } from './definition.js';
export type { ActionDefinition } from './definition.js';
export { SpawnExecutor, RecordingExecutor } from './executor.js';
export type { Executor, CommandResult } from './executor.js';
export { parseTarget, target, contains } from '../cidr.js';
export type { ParamValue } from './template.js';

/** The actions shipped in actions/*.toml. */
export const SHIPPED_ACTIONS = ['nftables', 'iptables', 'ipset', 'command', 'dry-run', 'sendmail', 'webhook'] as const;

/**
 * Loads an action (a shipped name such as "nftables", or a path to a .toml file) and binds it
 * to one jail. Throws ConfigError for a bad action file, PbanError for bad options.
 */
export function createAction(ref: string, opts: ActionOptions, actionsDir?: string): ActionRunner {
  return new ActionRunner(loadAction(ref, actionsDir), opts);
}
