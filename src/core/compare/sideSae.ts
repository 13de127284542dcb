// An SAE opened beside the loaded one, through the same model: one side of a compared pair, for its
// dashboard or the side-by-side decomposition. It reads its own hook site when the model has it at the
// SAE's width; otherwise it is refused, naming the SAE, the site and both widths.
import { basename } from 'node:path';
import type { AnalysisModel, AnalysisSae } from '../analysis/ports';
import type { Loaders } from '../analysis/session';

export interface SideSae {
  readonly path: string;
  readonly folder: string;
  readonly site: string;
  readonly sae: AnalysisSae;
}

export function openSideSae(loaders: Pick<Loaders, 'loadSae' | 'readLabels'>, model: AnalysisModel, path: string, fallbackSite: string): SideSae {
  const loaded = loaders.loadSae(path);
  const inference = loaded.sae;
  const name = basename(path);
  const site = inference.config.hookName ?? fallbackSite;
  const found = model.sites.find((s) => s.name === site);
  if (!found) throw new Error(`SAE ${name} reads ${site}, which model ${model.name} does not have`);
  if (found.dim !== inference.dIn) throw new Error(`SAE ${name} has d_in ${inference.dIn}, but site ${site} of model ${model.name} has width ${found.dim}`);
  const out = inference.isTranscoder ? inference.config.hookNameOut : undefined;
  if (out !== undefined && !model.sites.some((s) => s.name === out && s.dim === inference.dOut)) {
    throw new Error(`transcoder ${name} writes ${out} (width ${inference.dOut}), which model ${model.name} does not have at that width`);
  }
  const folder = loaded.folder ?? path;
  let labels: Map<number, string>;
  try {
    labels = loaders.readLabels(folder);
  } catch {
    labels = new Map();
  }
  return {
    path,
    folder,
    site,
    sae: { name, inference, weights: inference.weights, encode: async (x) => inference.encode(x), labels, ...(out !== undefined ? { outputSite: out } : {}) },
  };
}
