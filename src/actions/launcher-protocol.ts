// The messages between the daemon and its launcher process (launcher.ts, launcher-child.ts).
import type { CommandResult } from './executor.js';

export type LauncherRequest =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly argv: string[];
      /** Small input as text; large input as a 0600 file the launcher opens and removes (executor.ts). */
      readonly stdin: { readonly text: string | undefined } | { readonly path: string };
      readonly timeoutMs: number;
    }
  /** The action is stopping: kill command `id` if it still runs. */
  | { readonly type: 'abort'; readonly id: number };

export type LauncherReply =
  /** Its signal handlers are in place: from now on only the daemon ends it. */
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly result: CommandResult };
