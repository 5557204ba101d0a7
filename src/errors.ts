// One family of error classes. A PbanError is an expected, user-facing problem and is
// printed as one line; anything else is a bug and gets a stack trace.

export interface PbanErrorOptions {
  cause?: unknown;
  exitCode?: number;
}

export class PbanError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, opts: PbanErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** A bad config file, filter file or action file: names the file and, where known, the line. */
export class ConfigError extends PbanError {
  constructor(
    code: string,
    readonly file: string,
    readonly line: number | undefined,
    readonly detail: string,
    opts: PbanErrorOptions = {},
  ) {
    super(code, `${file}${line === undefined ? '' : `:${line}`}: ${detail}`, opts);
  }
}

/** A wrong command-line argument: exit code 2. */
export class UsageError extends PbanError {
  constructor(message: string) {
    super('cli.usage', message, { exitCode: 2 });
  }
}

export class SourceError extends PbanError {}
export class StoreError extends PbanError {}
export class ControlError extends PbanError {}

/** A firewall command that failed: carries argv, exit status and stderr. */
export class ActionError extends PbanError {
  constructor(
    readonly argv: readonly string[],
    readonly status: number | null,
    readonly stderr: string,
    message?: string,
  ) {
    super('action.commandFailed', message ?? `${argv[0] ?? '?'}: exit ${status ?? 'signal'}: ${stderr.trim().split('\n')[0] ?? ''}`);
  }
}
