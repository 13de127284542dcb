import type { CliCommand } from '../command';
import { analyzeCommand } from './analyze';
import { harvestCommand } from './harvest';
import { sitesCommand } from './sites';
import { activationsCommand } from './activations';
import { generateCommand } from './generate';

/** The sub-commands, in the order `feature-lens help` lists them. */
export const commands: CliCommand[] = [analyzeCommand, harvestCommand, sitesCommand, activationsCommand, generateCommand];
