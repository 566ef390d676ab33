// What a command may touch of the outside world; the real process in production, fakes in tests.

/** Something text can be written to (process.stdout, a test buffer). */
export interface Writer { write(text: string): unknown }

/** Standard input: a readable stream, and in a terminal the raw-mode switch used for hidden input. */
export type CliInput = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };

/** The streams and environment a CLI run uses; `runCli` never reads `process.*` itself. */
export interface CliIo {
  stdin: CliInput;
  stdout: Writer;
  stderr: Writer;
  env: NodeJS.ProcessEnv;
}
