// The genealogy of a run read from disk: its checkpoints in training order (runHistory), each opened with the
// one SAE loader, and their decoder directions matched one checkpoint to the next (genealogy).
import { basename } from 'node:path';
import type { Genealogy, GenealogyCheckpoint } from '../../protocol/compare';
import { openSae } from '../formats/open-sae';
import { featureGenealogy, type GenealogyOptions } from './genealogy';
import { listRunCheckpoints, type RunCheckpoint } from './runHistory';

/** `source`: a run folder (or one of its history checkpoints), or the checkpoint paths in order. */
export function genealogyOf(source: string | readonly string[], options: GenealogyOptions & { onProgress?: (done: number, of: number) => void } = {}): Genealogy {
  const list: RunCheckpoint[] = typeof source === 'string' ? listRunCheckpoints(source) : source.map((path) => ({ path }));
  if (list.length < 2) {
    throw new Error(
      typeof source === 'string'
        ? `${source} has ${list.length} checkpoint${list.length === 1 ? '' : 's'}: a genealogy needs two or more (training keeps them in ${basename(source)}.checkpoints/)`
        : 'a genealogy needs two or more checkpoints',
    );
  }
  const checkpoints: GenealogyCheckpoint[] = [];
  const decoders = list.map((c) => {
    const o = openSae(c.path);
    checkpoints.push({ path: c.path, label: c.step !== undefined ? `step ${c.step}` : basename(c.path), ...(c.step !== undefined ? { step: c.step } : {}), dSae: o.sae.dSae });
    return { wDec: o.sae.wDec, dSae: o.sae.dSae, d: o.sae.dOut };
  });
  for (let i = 1; i < decoders.length; i++) {
    if (decoders[i].d !== decoders[0].d) throw new Error(`${list[0].path} writes width ${decoders[0].d} but ${list[i].path} writes width ${decoders[i].d}: a genealogy follows one site`);
  }
  return featureGenealogy(checkpoints, decoders, options);
}
