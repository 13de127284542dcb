import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

/** The "Feature Lens" output channel; errors that are not the user's fault are logged here. */
export function log(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('Feature Lens', { log: true });
  return channel;
}
