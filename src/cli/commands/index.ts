import type { CliCommand } from '../command';

/** The sub-commands, in the order `feature-lens help` lists them. */
export const commands: CliCommand[] = [];
