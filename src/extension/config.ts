import * as vscode from 'vscode';

/** The settings under contributes.configuration, typed. */
export interface LensConfig {
  readonly modelPath: string;
  readonly saePath: string;
  readonly intraOpThreads: number;
  readonly topFeatures: number;
  readonly maxTokens: number;
  readonly maxSelectionChars: number;
  readonly hoverEnabled: boolean;
  /** Numeric backend for training: auto | fast | reference. */
  readonly trainingBackend: string;
  /** Threads of the fast backend's sparse kernels: auto | 1 | 2. */
  readonly sparseThreads: string;
}

export function getConfig(): LensConfig {
  const c = vscode.workspace.getConfiguration('featureLens');
  return {
    modelPath: c.get<string>('modelPath', ''),
    saePath: c.get<string>('saePath', ''),
    intraOpThreads: c.get<number>('intraOpThreads', 2),
    topFeatures: c.get<number>('topFeatures', 8),
    maxTokens: c.get<number>('maxTokens', 1024),
    maxSelectionChars: c.get<number>('maxSelectionChars', 20000),
    hoverEnabled: c.get<boolean>('hover.enabled', false),
    trainingBackend: c.get<string>('trainingBackend', 'auto'),
    sparseThreads: c.get<string>('sparseThreads', 'auto'),
  };
}
