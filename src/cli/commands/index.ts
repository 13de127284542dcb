import type { CliCommand } from '../command';
import { analyzeCommand } from './analyze';
import { harvestCommand } from './harvest';

/** The sub-commands, in the order `feature-lens help` lists them. */
export const commands: CliCommand[] = [analyzeCommand, harvestCommand];
