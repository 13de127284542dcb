import type * as vscode from 'vscode';

/** Shows the worker's feature-index progress events ({ phase, done, total }) in a progress notification. */
export function reportIndexProgress(progress: vscode.Progress<{ message?: string }>, raw: unknown): void {
  if (typeof raw !== 'object' || raw === null) return;
  const p = raw as { phase?: unknown; done?: unknown; total?: unknown };
  if (typeof p.phase !== 'string' || typeof p.done !== 'number' || typeof p.total !== 'number') return;
  progress.report({ message: `building the feature index: ${p.phase} ${p.total > 0 ? Math.round((100 * p.done) / p.total) : 0} %` });
}
