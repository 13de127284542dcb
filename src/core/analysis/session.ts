// One loaded model + SAE + site, shared by the worker and the CLI. Choosing what to load (user choice,
// else the bundled defaults) and checking that the SAE fits the site happen here, once.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { InferenceSae, PreActivationKernel } from '../inference/inferenceSae';
import type { LanguageModel } from '../runtime/types';
import type { LoadResult, LoadSelection, SaeChoice } from '../../protocol/session';
import type { IndexTarget } from '../features/sessionIndex';
import type { Unembedding } from './logitEffects';
import { AnalysisError, type AnalysisModel, type AnalysisSae } from './ports';
import { analysisModel } from './runtimeAdapter';

export interface Loaders {
  /** `variant`: which weights of a folder holding several copies (fp32, fp16, int8, q4…); undefined = the default. */
  loadModel(path: string, variant?: string): Promise<LanguageModel>;
  /**
   * Reads any supported SAE file/folder, prepared for inference (src/core/formats/open-sae.ts); `hook`
   * picks one SAE of a folder holding several (else MultipleSaesError).
   */
  loadSae(path: string, hook?: string): { sae: InferenceSae; warnings: readonly string[]; folder?: string };
  /** A faster GEMM for x·W_enc than the JavaScript one (the runtime's), made once per loaded SAE. */
  encoderKernel?(sae: InferenceSae): Promise<{ kernel: PreActivationKernel; dispose(): Promise<void> }>;
  /** Labels saved beside the SAE (in the folder it was read from). */
  readLabels(folder: string): Map<number, string>;
  unembedding?(lm: LanguageModel, modelPath: string): Unembedding | undefined;
}

export const BUNDLED_MODEL = join('models', 'tiny-lm');

const isSaeFolder = (dir: string) => existsSync(join(dir, 'cfg.json')) && existsSync(join(dir, 'sae_weights.safetensors'));
const subdirs = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .sort()
        .map((n) => join(dir, n))
        .filter((p) => statSync(p).isDirectory())
    : [];

/** The bundled SAE: the first SAELens folder (cfg.json + weights) under models/, searched two levels deep. */
export function findBundledSae(root: string): string | undefined {
  for (const d of subdirs(join(root, 'models'))) {
    if (isSaeFolder(d)) return d;
    for (const dd of subdirs(d)) if (isSaeFolder(dd)) return dd;
  }
  return undefined;
}

/** Bundled SAEs of the other layers (one folder per hook site), beside the default in models/sae/. */
export const BUNDLED_LAYER_SAES = join('models', 'sae', 'layers');

/** The hook a SAELens folder's cfg.json names (SAELens ≥ 6 under metadata, older at the top), if readable. */
function hookOf(dir: string): string | undefined {
  try {
    const cfg = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8')) as { hook_name?: unknown; metadata?: { hook_name?: unknown } };
    const hook = cfg.metadata?.hook_name ?? cfg.hook_name;
    return typeof hook === 'string' ? hook : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bundled SAE that reads `site`: the default when it does, else the per-layer one in models/sae/layers/;
 * undefined when none is bundled for that site (the caller falls back to the default).
 */
export function findBundledSaeForSite(root: string, site: string): string | undefined {
  const fallback = findBundledSae(root);
  if (fallback && hookOf(fallback) === site) return fallback;
  return subdirs(join(root, BUNDLED_LAYER_SAES)).find((d) => isSaeFolder(d) && hookOf(d) === site);
}

export class AnalysisSession {
  private constructor(
    readonly lm: LanguageModel,
    readonly model: AnalysisModel,
    readonly modelPath: string,
    readonly site: string,
    readonly sae: AnalysisSae | undefined,
    readonly saePath: string | undefined,
    /** The folder the SAE was read from (a sparsify hook's sub-folder, a params.npz's folder): labels go there. */
    readonly labelsDir: string | undefined,
    readonly info: LoadResult,
    private readonly releaseEncoder: () => Promise<void>,
  ) {}

  /** `root`: the extension (or package) folder holding models/. */
  static async open(selection: LoadSelection, root: string, loaders: Loaders, previous?: AnalysisSession): Promise<AnalysisSession> {
    const modelPath = selection.modelPath || join(root, BUNDLED_MODEL);
    const variant = selection.modelVariant || undefined;
    const reuse = previous !== undefined && previous.modelPath === modelPath && previous.info.model.variant === variant;
    const lm = reuse ? previous.lm : await loaders.loadModel(modelPath, variant);
    let opened: AnalysisSession;
    try {
      const model = reuse ? previous.model : analysisModel(lm, lm.info.name || basename(modelPath), loaders.unembedding?.(lm, variant ? lm.info.onnxFile : modelPath));
      opened = await AnalysisSession.bind(selection, root, loaders, lm, model, modelPath);
    } catch (err) {
      // The previous session stays usable when the new selection cannot be opened.
      if (!reuse) await lm.dispose();
      throw err;
    }
    if (previous) await (reuse ? previous.releaseEncoder() : previous.dispose());
    return opened;
  }

  private static async bind(selection: LoadSelection, root: string, loaders: Loaders, lm: LanguageModel, model: AnalysisModel, modelPath: string): Promise<AnalysisSession> {
    const modelName = model.name;
    const sites = model.sites;

    const warnings: string[] = [];
    let saeProblem: string | undefined;
    let saeChoice: SaeChoice | undefined;
    let inference: InferenceSae | undefined;
    let labelsDir: string | undefined;
    // No SAE chosen: the bundled one of the chosen site when there is one, else the default.
    const saePath = selection.saePath || (selection.site ? findBundledSaeForSite(root, selection.site) : undefined) || findBundledSae(root);
    const saeName = saePath ? saeDisplayName(saePath) + (selection.saeHook ? `/${selection.saeHook}` : '') : '';
    if (!saePath) {
      saeProblem = 'No SAE is loaded and no bundled SAE was found. Load one with "Feature Lens: Load SAE…".';
    } else {
      try {
        const loaded = loaders.loadSae(saePath, selection.saeHook);
        warnings.push(...loaded.warnings);
        inference = loaded.sae;
        labelsDir = loaded.folder ?? saePath;
      } catch (err) {
        if (!isMultipleSaes(err)) throw err;
        saeChoice = { kind: 'hook', path: saePath, hooks: err.hooks };
        saeProblem = `${basename(saePath)} holds ${err.hooks.length} SAEs (${err.hooks.join(', ')}): choose one.`;
      }
    }

    // The site: the user's choice, else the SAE's own hook when the model has it at the SAE's width.
    const bySite = new Map(sites.map((s) => [s.name, s]));
    const hookName = inference?.config.hookName;
    let site: string;
    let bound = inference !== undefined;
    if (selection.site) {
      if (!bySite.has(selection.site)) throw new AnalysisError(`model ${modelName} has no hook site "${selection.site}"`, 'unknownSite');
      site = selection.site;
      if (inference) {
        checkWidth(saeName, inference.dIn, site, bySite.get(site)!.dim, modelName);
        if (hookName && hookName !== site) warnings.push(`SAE ${saeName} was trained on ${hookName}; it is applied at ${site}.`);
      }
    } else if (inference && hookName && bySite.get(hookName)?.dim === inference.dIn) {
      site = hookName;
    } else if (inference?.isTranscoder && hookName && bySite.has(hookName)) {
      // The model has the transcoder's input site at another width: no choice of ours can fix that.
      const out = inference.config.hookNameOut;
      const outSite = out ? bySite.get(out) : undefined;
      throw new AnalysisError(
        `transcoder ${saeName} reads width ${inference.dIn} at ${hookName} and writes width ${inference.dOut}` +
          `${out ? ` at ${out}` : ''}, but model ${modelName} has ${hookName} of width ${bySite.get(hookName)!.dim}` +
          `${outSite ? ` and ${out} of width ${outSite.dim}` : ''}`,
        'saeMismatch',
      );
    } else {
      const last = sites[sites.length - 1]?.name;
      if (!last) throw new AnalysisError(`model ${modelName} exposes no hook sites`, 'unknownSite');
      site = last;
      if (inference && saePath) {
        bound = false;
        const known = hookName ? bySite.get(hookName) : undefined;
        saeChoice = { kind: 'site', path: saePath, name: saeName, ...(hookName ? { hookName } : {}), dIn: inference.dIn, dSae: inference.dSae };
        saeProblem = !hookName
          ? `SAE ${saeName} does not say which hook it reads: choose the site of model ${modelName} it applies to (width ${inference.dIn}).`
          : known
            ? `SAE ${saeName} has d_in ${inference.dIn}, but site ${hookName} of model ${modelName} has width ${known.dim}: choose a site of width ${inference.dIn}.`
            : `SAE ${saeName} reads ${hookName}, which model ${modelName} does not have: choose the site it applies to (width ${inference.dIn}).`;
      }
    }

    // A transcoder writes another site: its own output hook when the model has it at d_out, else the user's choice.
    let siteOut: string | undefined;
    if (inference?.isTranscoder && bound && saePath) {
      const hookOut = inference.config.hookNameOut;
      const wanted = selection.siteOut ?? hookOut;
      const found = wanted ? bySite.get(wanted) : undefined;
      const mismatch = (outName: string, outWidth: number) =>
        new AnalysisError(
          `transcoder ${saeName} reads width ${inference!.dIn} and writes width ${inference!.dOut}, but model ${modelName} has ` +
            `${site} (input) of width ${bySite.get(site)!.dim} and ${outName} (output) of width ${outWidth}`,
          'saeMismatch',
        );
      if (selection.siteOut) {
        if (!found) throw new AnalysisError(`model ${modelName} has no hook site "${selection.siteOut}"`, 'unknownSite');
        if (found.dim !== inference.dOut) throw mismatch(found.name, found.dim);
        siteOut = found.name;
      } else if (found && found.dim === inference.dOut) {
        siteOut = found.name;
      } else if (found) {
        throw mismatch(found.name, found.dim);
      } else {
        bound = false;
        saeChoice = { kind: 'siteOut', path: saePath, name: saeName, ...(hookOut ? { hookNameOut: hookOut } : {}), site, dOut: inference.dOut };
        saeProblem = hookOut
          ? `transcoder ${saeName} writes ${hookOut}, which model ${modelName} does not have: choose the site it predicts (width ${inference.dOut}).`
          : `transcoder ${saeName} does not say which site it predicts: choose the output site of model ${modelName} (width ${inference.dOut}).`;
      }
    }

    let sae: AnalysisSae | undefined;
    let releaseEncoder = async () => {};
    if (inference && bound && labelsDir) {
      const prepared = inference;
      const fast = await loaders.encoderKernel?.(prepared);
      if (fast) releaseEncoder = () => fast.dispose();
      sae = {
        name: saeName,
        inference: prepared,
        weights: prepared.weights,
        encode: fast ? (x) => prepared.encodeWith(x, fast.kernel) : async (x) => prepared.encode(x),
        labels: readLabelsOrWarn(loaders, labelsDir, warnings),
        ...(siteOut ? { outputSite: siteOut } : {}),
      };
      try {
        // Build the graph prefix up to the site and the encoder now, not on the first request.
        await sae.encode(await model.activations(Int32Array.of(0), site));
      } catch (err) {
        await releaseEncoder();
        throw err;
      }
    }

    const c = inference?.config;
    const info: LoadResult = {
      model: {
        name: modelName,
        path: modelPath,
        layers: lm.info.layers,
        dModel: lm.info.dModel,
        ...(selection.modelVariant ? { variant: selection.modelVariant, file: lm.info.onnxFile } : {}),
      },
      sites: sites.map((s) => ({ name: s.name, dim: s.dim })),
      site,
      ...(sae && c && saePath
        ? {
            sae: {
              name: sae.name,
              path: saePath,
              architecture: c.architecture,
              hookName: c.hookName ?? site,
              dIn: c.dIn,
              dSae: c.dSae,
              ...(siteOut ? { siteOut, dOut: inference!.dOut } : {}),
            },
          }
        : {}),
      ...(saeProblem ? { saeProblem } : {}),
      ...(saeChoice ? { saeChoice } : {}),
      warnings,
    };
    return new AnalysisSession(lm, model, modelPath, site, sae, sae ? saePath : undefined, sae ? labelsDir : undefined, info, releaseEncoder);
  }

  /** What a feature index of `sae` (default: the loaded one) is built from: this model, its exact weights file. */
  indexTarget(sae: AnalysisSae = this.requireSae(), site = this.site): IndexTarget {
    return { model: this.model, sae, site, modelPath: this.modelPath, modelFile: this.lm.info.onnxFile };
  }

  requireSae(): AnalysisSae {
    if (!this.sae) throw new AnalysisError(this.info.saeProblem ?? 'No SAE is loaded.', 'noSae');
    return this.sae;
  }

  async dispose(): Promise<void> {
    await this.releaseEncoder();
    await this.lm.dispose();
  }
}

/** A file (params.npz, ae.pt) is named with its folder: the file name alone says little. */
function saeDisplayName(path: string): string {
  return /\.(npz|pt|pth|safetensors|json)$/i.test(path) ? `${basename(dirname(path))}/${basename(path)}` : basename(path);
}

function checkWidth(sae: string, dIn: number, site: string, width: number, model: string): void {
  if (width !== dIn) throw new AnalysisError(`SAE ${sae} has d_in ${dIn}, but site ${site} of model ${model} has width ${width}`, 'saeMismatch');
}

/** detect.ts's MultipleSaesError, recognised by shape so loaders may wrap the readers. */
function isMultipleSaes(err: unknown): err is Error & { hooks: readonly string[] } {
  return err instanceof Error && err.name === 'MultipleSaesError' && Array.isArray((err as { hooks?: unknown }).hooks);
}

/** A labels file edited into invalid JSON must not make the SAE unusable: warn, show none, and leave it as is (saving refuses to overwrite it). */
function readLabelsOrWarn(loaders: Loaders, dir: string, warnings: string[]): Map<number, string> {
  try {
    return loaders.readLabels(dir);
  } catch (err) {
    warnings.push(`Your feature labels could not be read (${err instanceof Error ? err.message : String(err)}). They are not shown, and new labels are not saved until the file is fixed; the file is left untouched.`);
    return new Map();
  }
}
