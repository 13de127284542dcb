// Hook sites of the structures real exporters emit for each model family (built in the test by the
// project's graph builder), checked against an independent reference forward pass.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel, type OnnxLanguageModel } from '../../../../src/core/runtime';
import { buildFamily, FAMILY_BASE, type FamilyConfig, type FamilyModel } from '../../../fixtures/familyModel';
import { toFloat16 } from '../../../fixtures/float16';
import { maxAbsDiff } from '../../../fixtures/reference';
import { tempDir, type TempDir } from '../../../fixtures/tempModel';

const IDS = Int32Array.from([3, 17, 42, 5, 60, 1, 0, 33, 23, 9]);
const SEQUENTIAL = ['hook_resid_pre', 'hook_attn_out', 'hook_resid_mid', 'hook_mlp_out', 'hook_resid_post'];
const PARALLEL = ['hook_resid_pre', 'hook_attn_out', 'hook_mlp_out', 'hook_resid_post'];

interface Case {
  readonly title: string;
  readonly config: Partial<FamilyConfig> & Pick<FamilyConfig, 'norm'>;
  /** Largest |ONNX − reference| allowed, relative to the largest reference magnitude at the site. */
  readonly tolerance: number;
  /** The model converted to float16 (weights and computation; logits cast back to float32). */
  readonly half?: boolean;
}

const CASES: Case[] = [
  { title: 'Llama/Qwen/Mistral: RMSNorm written out with Casts, residual read through the Cast', config: { norm: 'rms' }, tolerance: 1e-5 },
  { title: 'GPT-NeoX/Pythia: parallel attention and MLP, LayerNorm', config: { norm: 'layer', parallel: true }, tolerance: 1e-5 },
  { title: 'Phi-2-like parallel block with RMSNorm written out', config: { norm: 'rms', parallel: true }, tolerance: 1e-5 },
  {
    title: 'Gemma 2/3: sandwich norms, scaled embedding, logit soft-capping',
    config: { norm: 'rms', sandwich: true, embedScale: Math.sqrt(32), softcap: 30 },
    tolerance: 1e-5,
  },
  { title: 'Phi-3: fused QKV and gate-up projections', config: { norm: 'rms', fused: true }, tolerance: 1e-5 },
  { title: 'ORT-optimized Llama: SkipSimplifiedLayerNormalization exposing the residual sum', config: { norm: 'rms-fused', skipNorm: true }, tolerance: 1e-5 },
  { title: 'ORT-optimized GPT-2: SkipLayerNormalization exposing the residual sum', config: { norm: 'layer', skipNorm: true }, tolerance: 1e-5 },
  { title: 'ORT-optimized parallel block with SkipLayerNormalization', config: { norm: 'layer', parallel: true, skipNorm: true }, tolerance: 1e-5 },
  {
    title: 'ORT optimizer output: projection biases folded into Skip*Normalization, last residual sum not exposed',
    config: { norm: 'rms-fused', skipNorm: 'ort' },
    tolerance: 1e-5,
  },
  { title: 'ORT optimizer output with SkipLayerNormalization (GPT-2 style)', config: { norm: 'layer', skipNorm: 'ort' }, tolerance: 1e-5 },
  { title: 'ORT optimizer output, parallel blocks', config: { norm: 'layer', parallel: true, skipNorm: 'ort' }, tolerance: 1e-5 },
  {
    title: 'onnxruntime-genai attention: RotaryEmbedding + GroupQueryAttention (2 query heads per K/V head)',
    config: { norm: 'rms-fused', skipNorm: 'ort', attention: 'gqa' },
    tolerance: 1e-5,
  },
  { title: '4-bit MatMulNBits weights (onnxruntime-genai / transformers.js q4)', config: { norm: 'rms', weights: 'q4' }, tolerance: 1e-5 },
  // The reference quantizes activations as DynamicQuantizeLinear does, so int8 sites match it closely;
  // the unquantized network differs from them by about 5e-3 of the range, so 1e-4 tells the two apart.
  { title: 'dynamic int8 (DynamicQuantizeLinear + MatMulInteger)', config: { norm: 'rms', weights: 'int8' }, tolerance: 1e-4 },
  // Half precision keeps 11 significant bits: a few roundings per layer stay well inside 5e-3 of the range.
  { title: 'fp16 Llama-style model (activations handed out as float32)', config: { norm: 'rms' }, tolerance: 5e-3, half: true },
  { title: 'fp16 GPT-2-style model', config: { norm: 'layer' }, tolerance: 5e-3, half: true },
];

for (const c of CASES) {
  describe(c.title, () => {
    let tmp: TempDir;
    let fixture: FamilyModel;
    let lm: OnnxLanguageModel;
    before(async () => {
      tmp = tempDir();
      fixture = buildFamily({ ...FAMILY_BASE, ...c.config });
      const bytes = c.half ? toFloat16(fixture.bytes) : fixture.bytes;
      lm = await loadModel(tmp.write('model.onnx', bytes), { cacheDir: tmp.path('cache'), intraOpThreads: 1 });
    });
    after(async () => {
      await lm?.dispose();
      tmp.cleanup();
    });

    test('finds every block with the sites its structure has', () => {
      const kinds = c.config.parallel ? PARALLEL : SEQUENTIAL;
      const expected = [0, 1].flatMap((L) => kinds.map((k) => `blocks.${L}.${k}`));
      assert.deepEqual(lm.sites().map((s) => s.name), expected);
      assert.equal(lm.info.layers, 2);
      assert.equal(lm.info.dModel, FAMILY_BASE.d);
      assert.equal(lm.info.vocabSize, FAMILY_BASE.vocab);
    });

    test('every site and the logits match the reference forward pass', async () => {
      const ref = fixture.referenceForward(IDS);
      const names = lm.sites().map((s) => s.name);
      const acts = await lm.activations([IDS], names);
      for (const name of names) {
        const want = ref.sites.get(name) as Float64Array;
        const got = (acts.get(name) as { data: Float32Array }[])[0].data;
        const scale = Math.max(1, ...Array.from(want, Math.abs));
        assert.ok(maxAbsDiff(got, want) <= c.tolerance * scale, `${name}: max diff ${maxAbsDiff(got, want)} (scale ${scale})`);
      }
      const [logits] = await lm.logits([IDS]);
      const scale = Math.max(1, ...Array.from(ref.logits, Math.abs));
      assert.ok(maxAbsDiff(logits.data, ref.logits) <= c.tolerance * scale, `logits: max diff ${maxAbsDiff(logits.data, ref.logits)}`);
    });

    test('splicing a site with its own activations leaves the logits unchanged', async () => {
      const site = c.config.parallel ? 'blocks.1.hook_attn_out' : 'blocks.0.hook_resid_mid';
      const [acts] = (await lm.activations([IDS], [site])).get(site) as { rows: number }[];
      const [plain] = await lm.logits([IDS]);
      const spliced = await lm.runWithSplice(IDS, site, acts as never);
      assert.ok(maxAbsDiff(spliced.data, plain.data) < (c.half ? 5e-3 : 1e-4));
    });
  });
}
