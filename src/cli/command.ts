/** One CLI sub-command; each lives in its own file under src/cli/commands/. */
export interface CliCommand {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(argv: readonly string[]): Promise<number>;
}
