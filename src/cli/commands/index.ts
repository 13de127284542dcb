import type { CliCommand } from '../command';
import { analyzeCommand } from './analyze';
import { harvestCommand } from './harvest';
import { evalCommand } from './eval';
import { sitesCommand } from './sites';
import { activationsCommand } from './activations';
import { generateCommand } from './generate';
import { convertCommand } from './convert';
import { trainCommand } from './train';
import { encodeCommand } from './encode';
import { indexCommand } from './index-features';
import { labelCommand } from './label';
import { hypothesisCommand } from './hypothesis';
import { attributeCommand } from './attribute';
import { exportRunCommand } from './exportRun';
import { compareCommand } from './compare';
import { genealogyCommand } from './genealogy';

/** The sub-commands, in the order `feature-lens help` lists them. */
export const commands: CliCommand[] = [analyzeCommand, attributeCommand, harvestCommand, trainCommand, encodeCommand, indexCommand, labelCommand, hypothesisCommand, evalCommand, compareCommand, genealogyCommand, sitesCommand, activationsCommand, generateCommand, convertCommand, exportRunCommand];
