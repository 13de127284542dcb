// feature-lens encode: features (and optionally reconstructions) of an SAE for a float32 .npy of activations.
import { degenerateRowsWarning } from '../../core/inference/inferenceSae';
import { ReconstructionAccumulator } from '../../core/metrics/reconstruction';
import { l0 } from '../../core/metrics/sparsity';
import { readNpyMatrix, writeNpyMatrix } from '../../core/npy';
import { referenceBackend, sparseToDense } from '../../core/tensor';
import { chooseBackend } from '../../core/train/backendChoice';
import { parseArgs, requireFlag, stringFlag } from '../args';
import type { CliCommand } from '../command';
import { openSaeOption, SAE_FLAGS, SAE_USAGE } from './saeOption';

const ROWS_PER_CHUNK = 4096;

export const encodeCommand: CliCommand = {
  name: 'encode',
  summary: 'Encode activations with an SAE (any format): dense features [N, d_sae] (and reconstructions) as .npy',
  usage: [
    'Usage: feature-lens encode --sae <path> [--hook <name>] --acts in.npy --out feats.npy [--recon recon.npy]',
    '',
    SAE_USAGE,
    '',
    'in.npy is float [N, d_in] (any float dtype, C or Fortran order); feats.npy is float32 [N, d_sae];',
    'recon.npy float32 [N, d_out] (d_out = d_in, except for a transcoder, whose output is its prediction',
    'of the output site). Prints a JSON summary (rows, L0, FVU against the input when --recon is given for',
    'an SAE) on stdout.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, [...SAE_FLAGS, 'acts', 'out', 'recon']);
    const { sae } = openSaeOption(args);
    const { dIn, dSae, dOut } = sae;
    const actsPath = requireFlag(args, 'acts');
    const outPath = requireFlag(args, 'out');
    const x = readNpyMatrix(actsPath);
    if (x.cols !== dIn) throw new Error(`the SAE reads d_in ${dIn} but ${actsPath} has ${x.cols} columns`);
    const reconPath = stringFlag(args, 'recon');
    const feats = new Float32Array(x.rows * dSae);
    const recon = reconPath ? new Float32Array(x.rows * dOut) : undefined;
    const acc = sae.isTranscoder ? undefined : new ReconstructionAccumulator(dIn);
    let l0Sum = 0;
    let degenerate = 0;
    const chosen = chooseBackend('auto');
    if (chosen.notice) process.stderr.write(`encode: ${chosen.notice}\n`);
    const fast = chosen.backend === referenceBackend ? undefined : chosen.backend;
    const wEnc = { data: sae.wEnc, rows: dIn, cols: dSae };
    for (let r0 = 0; r0 < x.rows; r0 += ROWS_PER_CHUNK) {
      const rows = Math.min(ROWS_PER_CHUNK, x.rows - r0);
      const chunk = { data: x.data.subarray(r0 * dIn, (r0 + rows) * dIn), rows, cols: dIn };
      // The encoder GEMM on the fast backend's engine when it loaded (≈10× the JavaScript GEMM).
      const encoded = fast ? await sae.encodeWith(chunk, async (xin) => fast.matmul(xin, wEnc)) : sae.encode(chunk);
      degenerate += encoded.degenerateRows?.length ?? 0;
      feats.set(sparseToDense(encoded.features).data, r0 * dSae);
      l0Sum += l0(encoded.features) * rows;
      if (recon) {
        const reconstruction = sae.decode(encoded, chunk);
        recon.set(reconstruction.data, r0 * dOut);
        acc?.add(chunk, reconstruction);
      }
      process.stderr.write(`encode: ${r0 + rows}/${x.rows} rows\n`);
    }
    chosen.dispose();
    const warning = degenerateRowsWarning(sae, degenerate);
    if (warning) process.stderr.write(`warning: ${warning}\n`);
    writeNpyMatrix(outPath, { data: feats, rows: x.rows, cols: dSae });
    if (reconPath && recon) writeNpyMatrix(reconPath, { data: recon, rows: x.rows, cols: dOut });
    const summary = {
      rows: x.rows,
      dIn,
      dSae,
      ...(sae.isTranscoder ? { dOut, transcoder: true } : {}),
      architecture: sae.config.architecture,
      l0: x.rows > 0 ? l0Sum / x.rows : null,
      ...(recon && acc ? { fvu: acc.fvu(), mse: acc.mse() } : {}),
      ...(degenerate > 0 ? { zeroNormTokens: degenerate } : {}),
    };
    process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
    return 0;
  },
};
