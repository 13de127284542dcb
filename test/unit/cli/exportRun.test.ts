// export-run: a Feature Lens run as a SAELens script / sparsify command line. The keyword arguments are
// checked against the fields SAELens and sparsify document for these classes (fixture lists below, taken
// from SAELens's sae_lens/config.py and saes/*_sae.py, sparsify's config.py and __main__.py).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { exportRunCommand } from '../../../src/cli/commands/exportRun';
import { exportSaeLensScript, exportSparsifyCommand, type RunDescription } from '../../../src/core/formats/export-run';
import { presetConfig } from '../../../src/core/train/presets';
import { tempDir } from '../../fixtures/tempModel';

const tmp = tempDir('fl-export-run-');
after(() => tmp.cleanup());

/** LanguageModelSAERunnerConfig's documented fields (SAELens 6). */
const SAELENS_RUNNER_FIELDS = [
  'sae', 'model_name', 'model_class_name', 'hook_name', 'hook_eval', 'hook_head_index', 'dataset_path', 'dataset_trust_remote_code',
  'streaming', 'is_dataset_tokenized', 'context_size', 'use_cached_activations', 'cached_activations_path', 'from_pretrained_path',
  'n_batches_in_buffer', 'training_tokens', 'store_batch_size_prompts', 'seqpos_slice', 'device', 'act_store_device', 'seed', 'dtype',
  'prepend_bos', 'autocast', 'autocast_lm', 'compile_llm', 'llm_compilation_mode', 'compile_sae', 'sae_compilation_mode',
  'train_batch_size_tokens', 'adam_beta1', 'adam_beta2', 'lr', 'lr_scheduler_name', 'lr_warm_up_steps', 'lr_end', 'lr_decay_steps',
  'n_restart_cycles', 'dead_feature_window', 'feature_sampling_window', 'dead_feature_threshold', 'n_eval_batches',
  'eval_batch_size_prompts', 'logger', 'n_checkpoints', 'checkpoint_path', 'verbose', 'model_kwargs', 'model_from_pretrained_kwargs',
  'sae_lens_version', 'sae_lens_training_version', 'exclude_special_tokens',
];
/** The TrainingSAEConfig base fields and each architecture's own (SAELens 6). */
const SAELENS_SAE_BASE = ['d_in', 'd_sae', 'dtype', 'device', 'apply_b_dec_to_input', 'normalize_activations', 'reshape_activations', 'metadata', 'decoder_init_norm'];
const SAELENS_SAE_FIELDS: Record<string, string[]> = {
  JumpReLUTrainingSAEConfig: [...SAELENS_SAE_BASE, 'jumprelu_init_threshold', 'jumprelu_bandwidth', 'l0_coefficient', 'l0_warm_up_steps', 'pre_act_loss_coefficient', 'jumprelu_sparsity_loss_mode', 'jumprelu_tanh_scale', 'jumprelu_ste_to_input'],
  StandardTrainingSAEConfig: [...SAELENS_SAE_BASE, 'l1_coefficient', 'lp_norm', 'l1_warm_up_steps'],
  GatedTrainingSAEConfig: [...SAELENS_SAE_BASE, 'l1_coefficient', 'l1_warm_up_steps'],
  TopKTrainingSAEConfig: [...SAELENS_SAE_BASE, 'k', 'aux_loss_coefficient', 'rescale_acts_by_decoder_norm'],
  BatchTopKTrainingSAEConfig: [...SAELENS_SAE_BASE, 'k', 'aux_loss_coefficient', 'rescale_acts_by_decoder_norm', 'topk_threshold_lr'],
  MatryoshkaBatchTopKTrainingSAEConfig: [...SAELENS_SAE_BASE, 'k', 'aux_loss_coefficient', 'rescale_acts_by_decoder_norm', 'topk_threshold_lr', 'matryoshka_widths', 'use_matryoshka_aux_loss'],
};
/** sparsify's RunConfig / TrainConfig / SparseCoderConfig options (simple_parsing flattens them). */
const SPARSIFY_OPTIONS = [
  'activation', 'expansion_factor', 'normalize_decoder', 'num_latents', 'k', 'multi_topk', 'skip_connection', 'transcode',
  'batch_size', 'grad_acc_steps', 'micro_acc_steps', 'loss_fn', 'optimizer', 'lr', 'lr_warmup_steps', 'k_decay_steps', 'auxk_alpha',
  'dead_feature_threshold', 'exclude_tokens', 'hookpoints', 'init_seeds', 'layers', 'layer_stride', 'distribute_modules', 'save_every',
  'save_best', 'finetune', 'log_to_wandb', 'run_name', 'wandb_log_frequency', 'save_dir', 'split', 'ctx_len', 'return_overflowed_tokens',
  'revision', 'load_in_8bit', 'max_examples', 'resume', 'text_column', 'shuffle_seed', 'data_preprocessing_num_proc',
];

function run(architecture: 'jumprelu' | 'relu' | 'gated' | 'topk' | 'batchtopk', extra: Partial<Parameters<typeof presetConfig>[0]> = {}): RunDescription {
  return {
    config: presetConfig({ architecture, dSae: 4096, totalTokens: 50_000_000, ...(architecture === 'topk' || architecture === 'batchtopk' ? { k: 64 } : {}), ...extra }),
    hookName: 'blocks.6.hook_resid_post',
    dIn: 768,
    modelName: 'gpt2',
    datasetPath: 'Skylion007/openwebtext',
    contextSize: 128,
    source: 'test',
  };
}

/** Keyword arguments of `Name(` … `)` in a script (one per line, as written). */
function kwargsOf(text: string, cls: string): Map<string, string> {
  const start = text.indexOf(`${cls}(`);
  assert.ok(start >= 0, `${cls}( in the script`);
  const out = new Map<string, string>();
  let depth = 0;
  for (const line of text.slice(start).split('\n')) {
    const m = /^\s+(\w+)=(.*),$/.exec(line);
    if (m && depth === 1) out.set(m[1], m[2]);
    depth += (line.match(/\(/g) ?? []).length - (line.match(/\)/g) ?? []).length;
    if (depth <= 0 && out.size > 0) break;
  }
  return out;
}

for (const arch of ['jumprelu', 'relu', 'gated', 'topk', 'batchtopk'] as const) {
  test(`SAELens script for a ${arch} run uses only documented config fields, with the run's values`, () => {
    const r = run(arch);
    const exported = exportSaeLensScript(r);
    const [cls] = Object.keys(exported.fields).filter((k) => k !== 'LanguageModelSAERunnerConfig');
    assert.ok(SAELENS_SAE_FIELDS[cls], `${cls} is a SAELens class`);
    const sae = kwargsOf(exported.text, cls);
    for (const key of sae.keys()) assert.ok(SAELENS_SAE_FIELDS[cls].includes(key), `${cls}.${key} is not a documented field`);
    const runner = kwargsOf(exported.text, 'LanguageModelSAERunnerConfig');
    for (const key of runner.keys()) assert.ok(SAELENS_RUNNER_FIELDS.includes(key), `LanguageModelSAERunnerConfig.${key} is not a documented field`);
    assert.equal(sae.get('d_sae'), '4096');
    assert.equal(sae.get('d_in'), '768');
    assert.equal(runner.get('training_tokens'), String(r.config.totalTokens));
    assert.equal(runner.get('train_batch_size_tokens'), String(r.config.batchSize));
    assert.equal(runner.get('lr'), String(r.config.lr));
    assert.equal(runner.get('hook_name'), '"blocks.6.hook_resid_post"');
    assert.equal(runner.get('seqpos_slice'), '(1, None)', 'position 0 is never trained on, as in Feature Lens');
    if (arch === 'topk' || arch === 'batchtopk') assert.equal(sae.get('k'), '64');
    if (arch === 'jumprelu') assert.equal(sae.get('l0_coefficient'), String(r.config.sparsityCoeff));
    assert.ok(exported.unmapped.some((u) => u.startsWith('adamEps')), 'fields without an equivalent are listed');
    for (const u of exported.unmapped) assert.ok(exported.text.includes(u), 'each unmapped field is written into the script');
  });
}

test('sparsify command for a TopK run: documented options only; non-TopK runs and sites sparsify cannot hook are refused', () => {
  const r = run('topk');
  const exported = exportSparsifyCommand(r);
  const options = [...exported.text.matchAll(/^\s+--(\w+) /gm)].map((m) => m[1]);
  assert.ok(options.length >= 10);
  for (const o of options) assert.ok(SPARSIFY_OPTIONS.includes(o), `--${o} is not a sparsify option`);
  assert.match(exported.text, /torchrun --nproc_per_node gpu -m sparsify gpt2 Skylion007\/openwebtext/);
  assert.match(exported.text, /--hookpoints layers\.6 /);
  assert.match(exported.text, /--k 64 /);
  assert.match(exported.text, /--num_latents 4096 /);
  assert.match(exported.text, new RegExp(`--max_examples ${Math.ceil(r.config.totalTokens / 128)} `));
  assert.throws(() => exportSparsifyCommand(run('jumprelu')), /TopK SAEs only/);
  assert.throws(() => exportSparsifyCommand({ ...r, hookName: 'blocks.6.hook_attn_out' }), /no sparsify hook point/);
});

test('CLI export-run reads a train job file and writes the script; the site width is asked for when the job lacks it', async () => {
  const job = tmp.path('job.json');
  writeFileSync(
    job,
    JSON.stringify({ site: 'blocks.2.hook_mlp_out', arch: 'topk', dSae: 512, k: 16, tokens: 1_000_000, seed: 3, data: { kind: 'corpus', modelPath: '/m/tiny', corpusDir: '/c', cacheDir: '/x' }, outDir: '/o', checkpointEvery: 0 }),
  );
  await assert.rejects(() => exportRunCommand.run(['--to', 'sparsify', job, '--out', tmp.path('x.sh')]), /pass --d-in/);
  const out = tmp.path('run.sh');
  const stdout: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array, ...rest: never[]) => (typeof c === 'string' ? (stdout.push(c), true) : orig(c, ...rest))) as typeof process.stdout.write;
  try {
    assert.equal(await exportRunCommand.run(['--to', 'sparsify', job, '--out', out, '--d-in', '128', '--model-name', 'EleutherAI/pythia-70m', '--dataset', 'EleutherAI/the_pile_deduplicated']), 0);
  } finally {
    process.stdout.write = orig;
  }
  const text = readFileSync(out, 'utf8');
  assert.match(text, /-m sparsify EleutherAI\/pythia-70m EleutherAI\/the_pile_deduplicated/);
  assert.match(text, /--hookpoints layers\.2\.mlp /);
  assert.match(text, /--init_seeds 3/);
  assert.equal((JSON.parse(stdout.join('')) as { dIn: number }).dIn, 128);
  await assert.rejects(() => exportRunCommand.run(['--to', 'onnx', job, '--out', out]), /--to must be saelens or sparsify/);
});

test('every preset exports with documented SAELens fields only (Anthropic tanh JumpReLU, Matryoshka BatchTopK included)', async () => {
  const { PRESET_NAMES } = await import('../../../src/core/train/presets');
  let checked = 0;
  for (const preset of PRESET_NAMES) {
    for (const architecture of ['jumprelu', 'relu', 'gated', 'topk', 'batchtopk'] as const) {
      let config;
      try {
        config = presetConfig({ architecture, dSae: 4096, totalTokens: 50_000_000, preset, ...(architecture === 'topk' || architecture === 'batchtopk' ? { k: 64 } : {}) });
      } catch {
        continue; // the preset is not defined for this architecture
      }
      const exported = exportSaeLensScript({ ...run(architecture), config });
      const [cls] = Object.keys(exported.fields).filter((k) => k !== 'LanguageModelSAERunnerConfig');
      assert.ok(SAELENS_SAE_FIELDS[cls], `${preset}/${architecture}: ${cls} is a SAELens class`);
      for (const key of kwargsOf(exported.text, cls).keys()) assert.ok(SAELENS_SAE_FIELDS[cls].includes(key), `${preset}/${architecture}: ${cls}.${key} is not documented`);
      if (config.jumpRelu?.sparsity === 'tanh') assert.match(exported.text, /jumprelu_sparsity_loss_mode="tanh"/);
      if (config.topK?.matryoshkaWidths) assert.match(exported.text, /matryoshka_widths=\[/);
      if (config.topK?.matryoshkaAuxK === 'perLevel') assert.match(exported.text, /use_matryoshka_aux_loss=True/);
      checked++;
    }
  }
  assert.ok(checked >= 6, `${checked} preset/architecture pairs`);
  // Per-level Matryoshka AuxK is SAELens's use_matryoshka_aux_loss.
  const m = presetConfig({ architecture: 'batchtopk', dSae: 4096, totalTokens: 50_000_000, preset: 'matryoshka', k: 64 });
  const perLevel = exportSaeLensScript({ ...run('batchtopk'), config: { ...m, topK: { ...m.topK, matryoshkaAuxK: 'perLevel' } } });
  assert.match(perLevel.text, /use_matryoshka_aux_loss=True/);
  assert.ok(kwargsOf(perLevel.text, 'MatryoshkaBatchTopKTrainingSAEConfig').has('use_matryoshka_aux_loss'));
});
