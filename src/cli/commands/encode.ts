// feature-lens encode: features (and optionally reconstructions) of an SAE for a float32 .npy of activations.
import { readSaeLensFolder } from '../../core/checkpoints/saelens';
import { ReconstructionAccumulator } from '../../core/metrics/reconstruction';
import { l0 } from '../../core/metrics/sparsity';
import { readNpyMatrix, writeNpyMatrix } from '../../core/npy';
import { saeFromWeights } from '../../core/sae/create';
import { sparseToDense } from '../../core/tensor';
import { parseArgs, requireFlag, stringFlag } from '../args';
import type { CliCommand } from '../command';

const ROWS_PER_CHUNK = 4096;

export const encodeCommand: CliCommand = {
  name: 'encode',
  summary: 'Encode activations with an SAE: dense features [N, d_sae] (and reconstructions) as .npy',
  usage: [
    'Usage: feature-lens encode --sae <dir> --acts in.npy --out feats.npy [--recon recon.npy]',
    '',
    'in.npy is float32 [N, d_in]; feats.npy is float32 [N, d_sae]; recon.npy float32 [N, d_in].',
    'Prints a JSON summary (rows, L0, FVU when --recon is given) on stdout.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, ['sae', 'acts', 'out', 'recon']);
    const loaded = readSaeLensFolder(requireFlag(args, 'sae'));
    for (const w of loaded.warnings) process.stderr.write(`warning: ${w}\n`);
    const sae = saeFromWeights(loaded.weights);
    const { dIn, dSae } = sae.config;
    const x = readNpyMatrix(requireFlag(args, 'acts'));
    if (x.cols !== dIn) throw new Error(`the SAE reads d_in ${dIn} but ${requireFlag(args, 'acts')} has ${x.cols} columns`);
    const reconPath = stringFlag(args, 'recon');
    const feats = new Float32Array(x.rows * dSae);
    const recon = reconPath ? new Float32Array(x.rows * dIn) : undefined;
    const acc = new ReconstructionAccumulator(dIn);
    let l0Sum = 0;
    for (let r0 = 0; r0 < x.rows; r0 += ROWS_PER_CHUNK) {
      const rows = Math.min(ROWS_PER_CHUNK, x.rows - r0);
      const chunk = { data: x.data.subarray(r0 * dIn, (r0 + rows) * dIn), rows, cols: dIn };
      const { features, reconstruction } = sae.forward(chunk);
      feats.set(sparseToDense(features).data, r0 * dSae);
      l0Sum += l0(features) * rows;
      if (recon) {
        recon.set(reconstruction.data, r0 * dIn);
        acc.add(chunk, reconstruction);
      }
      process.stderr.write(`encode: ${r0 + rows}/${x.rows} rows\n`);
    }
    writeNpyMatrix(requireFlag(args, 'out'), { data: feats, rows: x.rows, cols: dSae });
    if (reconPath && recon) writeNpyMatrix(reconPath, { data: recon, rows: x.rows, cols: dIn });
    const summary = {
      rows: x.rows,
      dIn,
      dSae,
      architecture: sae.config.architecture,
      l0: x.rows > 0 ? l0Sum / x.rows : null,
      ...(recon ? { fvu: acc.fvu(), mse: acc.mse() } : {}),
    };
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return 0;
  },
};
