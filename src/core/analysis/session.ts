// One loaded model + SAE + site, shared by the worker and the CLI. Choosing what to load (user choice,
// else the bundled defaults) and checking that the SAE fits the site happen here, once.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LanguageModel } from '../runtime/types';
import type { SaeWeights } from '../sae/weights';
import type { SparseFeatures } from './decompose';
import type { Unembedding } from './logitEffects';
import { AnalysisError, resolveSite, type AnalysisModel, type AnalysisSae } from './ports';
import { analysisModel } from './runtimeAdapter';

export interface Loaders {
  loadModel(path: string): Promise<LanguageModel>;
  /** Reads any supported SAE file/folder. */
  loadSae(path: string): { weights: SaeWeights; warnings: readonly string[] };
  /** An inference encoder for stored weights, plus the weights it decodes with (input scale folded in). */
  encoderFor(weights: SaeWeights): { weights: SaeWeights; encode(x: { data: Float32Array; rows: number; cols: number }): SparseFeatures };
  readLabels(saePath: string): Map<number, string>;
  unembedding?(lm: LanguageModel, modelPath: string): Unembedding | undefined;
}

export interface Selection {
  readonly modelPath?: string;
  readonly saePath?: string;
  readonly site?: string;
}

export interface SessionInfo {
  readonly model: { name: string; path: string; layers: number; dModel: number };
  readonly sites: { name: string; dim: number }[];
  readonly site: string;
  readonly sae?: { name: string; path: string; architecture: string; hookName: string; dIn: number; dSae: number };
  readonly saeProblem?: string;
  readonly warnings: readonly string[];
}

export const BUNDLED_MODEL = join('models', 'tiny-lm');

/** The bundled SAE: the first SAELens folder (cfg.json + weights) under models/, searched two levels deep. */
export function findBundledSae(root: string): string | undefined {
  const models = join(root, 'models');
  const isSae = (dir: string) => existsSync(join(dir, 'cfg.json')) && existsSync(join(dir, 'sae_weights.safetensors'));
  const subdirs = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .sort()
          .map((n) => join(dir, n))
          .filter((p) => statSync(p).isDirectory())
      : [];
  for (const d of subdirs(models)) {
    if (isSae(d)) return d;
    for (const dd of subdirs(d)) if (isSae(dd)) return dd;
  }
  return undefined;
}

export class AnalysisSession {
  private constructor(
    readonly lm: LanguageModel,
    readonly model: AnalysisModel,
    readonly modelPath: string,
    readonly site: string,
    readonly sae: AnalysisSae | undefined,
    readonly saePath: string | undefined,
    readonly info: SessionInfo,
  ) {}

  /** `root`: the extension (or package) folder holding models/. */
  static async open(selection: Selection, root: string, loaders: Loaders, previous?: AnalysisSession): Promise<AnalysisSession> {
    const modelPath = selection.modelPath || join(root, BUNDLED_MODEL);
    const reuse = previous && previous.modelPath === modelPath;
    const lm = reuse ? previous.lm : await loaders.loadModel(modelPath);
    if (previous && !reuse) await previous.dispose();
    const modelName = lm.info.name || basename(modelPath);
    const model = reuse ? previous.model : analysisModel(lm, modelName, loaders.unembedding?.(lm, modelPath));

    const warnings: string[] = [];
    let sae: AnalysisSae | undefined;
    let saeProblem: string | undefined;
    const saePath = selection.saePath || findBundledSae(root);
    if (!saePath) {
      saeProblem = 'No SAE is loaded and no bundled SAE was found. Load one with "Feature Lens: Load SAE…".';
    } else {
      const loaded = loaders.loadSae(saePath);
      warnings.push(...loaded.warnings);
      const enc = loaders.encoderFor(loaded.weights);
      sae = {
        name: basename(saePath),
        weights: enc.weights,
        encode: enc.encode,
        labels: loaders.readLabels(saePath),
      };
    }

    const sites = model.sites;
    const site = selection.site || sae?.weights.config.hookName || sites[sites.length - 1]?.name;
    if (!site) throw new AnalysisError(`model ${modelName} exposes no hook sites`, 'unknownSite');
    if (sae) {
      resolveSite(model, sae, site);
      const trained = sae.weights.config.hookName;
      if (trained && trained !== site) warnings.push(`SAE ${sae.name} was trained on ${trained}; it is applied at ${site}.`);
    }
    else if (!sites.some((s) => s.name === site)) throw new AnalysisError(`model ${modelName} has no hook site "${site}"`, 'unknownSite');

    const c = sae?.weights.config;
    const info: SessionInfo = {
      model: { name: modelName, path: modelPath, layers: lm.info.layers, dModel: lm.info.dModel },
      sites: sites.map((s) => ({ name: s.name, dim: s.dim })),
      site,
      ...(sae && c && saePath
        ? { sae: { name: sae.name, path: saePath, architecture: c.architecture, hookName: c.hookName ?? site, dIn: c.dIn, dSae: c.dSae } }
        : {}),
      ...(saeProblem ? { saeProblem } : {}),
      warnings,
    };
    return new AnalysisSession(lm, model, modelPath, site, sae, saePath, info);
  }

  requireSae(): AnalysisSae {
    if (!this.sae) throw new AnalysisError(this.info.saeProblem ?? 'No SAE is loaded.', 'noSae');
    return this.sae;
  }

  async dispose(): Promise<void> {
    await this.lm.dispose();
  }
}
