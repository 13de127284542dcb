import * as vscode from 'vscode';
import type { AnalysisResult } from '../../protocol/analysis';
import type { LoadResult, LoadSelection } from '../../protocol/session';
import { getConfig } from '../config';
import { rememberedVariant } from '../variantPick';
import { WorkerClient } from '../workerClient';

const SELECTION_KEY = 'featureLens.selection';

/** The text an analysis came from, so results map back to document ranges. */
export interface AnalyzedRange {
  readonly uri: vscode.Uri;
  readonly version: number;
  /** Document offset of the analysed text's first character. */
  readonly baseOffset: number;
  readonly result: AnalysisResult;
}

/**
 * Owns what is loaded (model, SAE, site: remembered per workspace, settings as fallback, then the bundled
 * defaults), the worker, and the latest analysis. Panels, hovers and decorations read from here.
 */
export class LensService implements vscode.Disposable {
  readonly worker: WorkerClient;
  private info?: LoadResult;
  private loading?: Promise<LoadResult>;
  private last?: AnalyzedRange;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly analysed = new vscode.EventEmitter<AnalyzedRange>();
  readonly onDidAnalyze = this.analysed.event;

  constructor(private readonly context: vscode.ExtensionContext) {
    const config = getConfig();
    this.worker = new WorkerClient(vscode.Uri.joinPath(context.extensionUri, 'dist', 'worker.js').fsPath, {
      root: context.extensionUri.fsPath,
      cacheDir: vscode.Uri.joinPath(context.globalStorageUri, 'model-cache').fsPath,
      intraOpThreads: config.intraOpThreads,
    });
    this.worker.onDidCrash(() => {
      this.loading = undefined;
    });
  }

  get loaded(): LoadResult | undefined {
    return this.info;
  }

  get lastAnalysis(): AnalyzedRange | undefined {
    return this.last;
  }

  selection(): LoadSelection {
    const stored = this.context.workspaceState.get<LoadSelection>(SELECTION_KEY, {});
    const config = getConfig();
    const modelPath = stored.modelPath || config.modelPath || undefined;
    return {
      modelPath,
      modelVariant: stored.modelVariant || rememberedVariant(modelPath),
      saePath: stored.saePath || config.saePath || undefined,
      saeHook: stored.saePath ? stored.saeHook || undefined : undefined,
      site: stored.site || undefined,
      siteOut: stored.siteOut || undefined,
    };
  }

  /** Changes part of the selection (undefined resets that part to its default) and reloads. */
  async select(change: Partial<LoadSelection>): Promise<LoadResult> {
    const stored = this.context.workspaceState.get<LoadSelection>(SELECTION_KEY, {});
    const next = { ...stored, ...change };
    // A new model or SAE brings its own site; a new SAE path its own choice of hook.
    if (('modelPath' in change || 'saePath' in change || 'saeHook' in change) && !('site' in change)) delete (next as { site?: string }).site;
    if (('modelPath' in change || 'saePath' in change || 'saeHook' in change) && !('siteOut' in change)) delete (next as { siteOut?: string }).siteOut;
    if ('saePath' in change && !('saeHook' in change)) delete (next as { saeHook?: string }).saeHook;
    if ('modelPath' in change && !('modelVariant' in change)) delete (next as { modelVariant?: string }).modelVariant;
    await this.context.workspaceState.update(SELECTION_KEY, next);
    this.loading = undefined;
    return this.ensureLoaded();
  }

  ensureLoaded(): Promise<LoadResult> {
    this.loading ??= this.worker.load(this.selection()).then(
      (info) => {
        this.info = info;
        this.changed.fire();
        return info;
      },
      (err: unknown) => {
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  async analyze(document: vscode.TextDocument, range: vscode.Range, text: string, token?: vscode.CancellationToken): Promise<AnalyzedRange> {
    await this.ensureLoaded();
    const config = getConfig();
    const result = await this.worker.request({ kind: 'analyze', text, topK: config.topFeatures, maxTokens: config.maxTokens }, token);
    this.last = { uri: document.uri, version: document.version, baseOffset: document.offsetAt(range.start), result };
    this.analysed.fire(this.last);
    return this.last;
  }

  dispose(): void {
    this.worker.dispose();
    this.changed.dispose();
    this.analysed.dispose();
  }
}
