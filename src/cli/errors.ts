// The CLI's error type: a message for the operator, the exit code, and optionally what to do next.

/** Exit codes of the `gatehouse` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** An error the dispatcher prints as-is (no stack trace) before exiting with `code`. */
export class CliError extends Error {
  readonly code: number;
  readonly hint: string | undefined;
  constructor(message: string, code: number, hint?: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.hint = hint;
  }
}

/** The operator asked for something invalid (arguments, input): exit 2. */
export const usageError = (message: string, hint?: string) => new CliError(message, EXIT.usage, hint);

/** The request was valid but could not be carried out (missing user, database down…): exit 1. */
export const failure = (message: string, hint?: string) => new CliError(message, EXIT.failure, hint);
