// "Find Feature…": search the loaded SAE's features by label, by top token, or list the features that fire
// on the editor's selection; picking one opens its dashboard. "Build Feature Index…" (re)builds the index
// and automatic labels from the bundled corpus or a folder of the user's.
import * as vscode from 'vscode';
import type { FeatureSearchHit } from '../protocol/analysis';
import type { FeatureSearchMode } from '../protocol/worker';
import { Commands } from '../protocol/commands';
import { getConfig } from './config';
import { reportIndexProgress } from './indexProgress';
import type { Inspector } from './inspector';
import { log } from './log';
import type { LensService } from './services/lensService';

interface HitItem extends vscode.QuickPickItem {
  readonly feature: number;
}

export function registerFindFeature(service: LensService, inspector: Inspector): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(Commands.findFeature, (query?: string, mode?: FeatureSearchMode) => findFeature(service, inspector, query, mode)),
    vscode.commands.registerCommand(Commands.buildFeatureIndex, (corpusPath?: string) => buildFeatureIndex(service, corpusPath)),
  );
}

export async function searchFeatures(service: LensService, query: string, mode: FeatureSearchMode, token?: vscode.CancellationToken): Promise<readonly FeatureSearchHit[]> {
  await service.ensureLoaded();
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Feature Lens: searching features' }, (progress) =>
    service.worker.request({ kind: 'findFeatures', query, mode, limit: 50, maxTokens: getConfig().maxTokens }, token, (p) => reportIndexProgress(progress, p)),
  );
}

function item(hit: FeatureSearchHit): HitItem {
  const scores = [`fires on ${(hit.density * 100).toFixed(2)} % of tokens`, ...(hit.auroc !== undefined ? [`AUROC ${hit.auroc.toFixed(2)}`] : [])];
  return {
    feature: hit.feature,
    label: `#${hit.feature}  ${hit.label ?? '—'}`,
    description: `${hit.labelSource === 'auto' ? 'auto · ' : ''}${scores.join(' · ')}`,
    detail: hit.detail,
  };
}

/**
 * With `query` (tests, other commands) it searches without asking and opens the best hit; otherwise a quick
 * pick searches as the user types (label text, and top tokens), starting from the features that fire on the
 * selection when there is one.
 */
async function findFeature(service: LensService, inspector: Inspector, query?: string, mode: FeatureSearchMode = 'text'): Promise<readonly FeatureSearchHit[] | undefined> {
  try {
    if (query !== undefined) {
      const hits = await searchFeatures(service, query, mode);
      if (hits[0]) await inspector.showFeature(hits[0].feature);
      return hits;
    }
    const pick = vscode.window.createQuickPick<HitItem>();
    pick.placeholder = 'Search features by label, token or context words (#123 for a number)';
    pick.matchOnDescription = true;
    pick.matchOnDetail = true;
    const editor = vscode.window.activeTextEditor;
    const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
    let generation = 0;
    const run = async (value: string) => {
      const mine = ++generation;
      pick.busy = true;
      try {
        const hits =
          value.trim() === ''
            ? selection
              ? await searchFeatures(service, selection.slice(0, getConfig().maxSelectionChars), 'selection')
              : []
            : [...(await searchFeatures(service, value, 'text')), ...(await searchFeatures(service, value, 'token'))];
        if (mine !== generation) return;
        const seen = new Set<number>();
        pick.items = hits.filter((h) => !seen.has(h.feature) && seen.add(h.feature)).map(item);
        pick.title = value.trim() === '' && selection ? 'Features firing on the selection (most distinctive first)' : 'Find Feature';
      } catch (err) {
        if (mine === generation) pick.title = `Search failed: ${err instanceof Error ? err.message : String(err)}`;
      } finally {
        if (mine === generation) pick.busy = false;
      }
    };
    let timer: NodeJS.Timeout | undefined;
    pick.onDidChangeValue((v) => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void run(v), 200);
    });
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0];
      pick.hide();
      if (chosen) void inspector.showFeature(chosen.feature);
    });
    pick.onDidHide(() => pick.dispose());
    pick.show();
    await run('');
    return undefined;
  } catch (err) {
    inspector.reportError(err);
    return undefined;
  }
}

async function buildFeatureIndex(service: LensService, corpusPath?: string): Promise<unknown> {
  let corpus = corpusPath;
  if (corpus === undefined) {
    const choice = await vscode.window.showQuickPick(
      [
        { label: 'Bundled sample corpus', corpus: '' },
        ...(vscode.workspace.workspaceFolders ?? []).map((f) => ({ label: `Workspace folder ${f.name}`, description: f.uri.fsPath, corpus: f.uri.fsPath })),
        { label: 'Another folder…', corpus: '?' },
      ],
      { placeHolder: 'Text to build the feature index and automatic labels from' },
    );
    if (!choice) return undefined;
    corpus = choice.corpus;
    if (corpus === '?') {
      const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, canSelectMany: false, openLabel: 'Use as corpus' });
      if (!uri?.[0]) return undefined;
      corpus = uri[0].fsPath;
    }
  }
  try {
    await service.ensureLoaded();
    const built = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Feature Lens', cancellable: true },
      (progress, token) => service.worker.request({ kind: 'buildIndex', ...(corpus ? { corpusPath: corpus } : {}) }, token, (p) => reportIndexProgress(progress, p)),
    );
    const summary = `Feature index built in ${built.seconds.toFixed(0)} s: ${built.labelled} of ${built.liveFeatures} live features labelled${built.medianAuroc !== undefined ? `, median held-out AUROC ${built.medianAuroc.toFixed(2)}` : ''}.`;
    log().info(`${summary} ${built.path}`);
    if (built.notSaved) void vscode.window.showWarningMessage(`Feature Lens: ${summary} ${built.notSaved}`);
    else void vscode.window.showInformationMessage(`Feature Lens: ${summary}`);
    return built;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!/cancel/i.test(message)) void vscode.window.showErrorMessage(`Feature Lens: ${message}`);
    return undefined;
  }
}
