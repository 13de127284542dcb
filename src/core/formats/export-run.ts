// A Feature Lens training run as the same run for the libraries that scale out: a SAELens training script
// (its LanguageModelSAERunnerConfig and the architecture's TrainingSAEConfig) or, for TopK, a sparsify
// command line (torchrun across GPUs and nodes). Every field of TrainConfig is either mapped or listed as
// having no equivalent, in the script itself and in docs/formats.md; the checkpoint the run writes comes
// back through Load SAE….
import { totalSteps, type TrainConfig } from '../train/config';

export interface RunDescription {
  readonly config: TrainConfig;
  /** The site trained on (TransformerLens name). */
  readonly hookName: string;
  /** The site's width; SAELens needs it up front. */
  readonly dIn: number;
  /** Model name as the target library loads it (a Hugging Face id); a local path is kept but flagged. */
  readonly modelName: string;
  /** Hugging Face dataset id (a local folder is kept but flagged). */
  readonly datasetPath: string;
  readonly contextSize: number;
  /** Where the run came from, for the header comment. */
  readonly source: string;
}

export interface ExportedRun {
  readonly text: string;
  /** The keyword arguments written, by object (for tests and the summary). */
  readonly fields: Readonly<Record<string, readonly string[]>>;
  /** TrainConfig fields the target has no equivalent for, with what the target does instead. */
  readonly unmapped: readonly string[];
}

const SAELENS_SAE_CLASS: Readonly<Record<TrainConfig['architecture'], string>> = {
  jumprelu: 'JumpReLUTrainingSAEConfig',
  relu: 'StandardTrainingSAEConfig',
  gated: 'GatedTrainingSAEConfig',
  topk: 'TopKTrainingSAEConfig',
  batchtopk: 'BatchTopKTrainingSAEConfig',
};

type PyValue = string | number | boolean | null | { readonly raw: string };

function py(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} into a script`);
    return Number.isInteger(v) ? String(v) : String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  return v.raw;
}

function kwargs(entries: readonly (readonly [string, PyValue])[], indent: string): string {
  return entries.map(([k, v]) => `${indent}${k}=${py(v)},`).join('\n');
}

/** Fields of TrainConfig no target maps, whatever the architecture. */
function commonUnmapped(c: TrainConfig): string[] {
  const out = [
    `adamEps (${c.adamEps}): the target uses its own optimizer epsilon`,
    `initRows (${c.initRows}): rows drawn up front to estimate the input scale and inits; the target estimates its own`,
    `historyEvery (${c.historyEvery}): metrics logging cadence (the target logs to wandb on its own schedule)`,
  ];
  if (c.lrWarmupSteps > 0 && (c.lrWarmupShape !== 'linear' || c.lrWarmupStart !== 0)) {
    out.push(`lrWarmupShape ${c.lrWarmupShape} from ${c.lrWarmupStart}·lr: the target warms up linearly from 0`);
  }
  if (c.bDecInit === 'mean') out.push('bDecInit mean: the target initialises b_dec at zero');
  return out;
}

function isLocal(p: string): boolean {
  return p.startsWith('/') || p.startsWith('.') || /^[A-Za-z]:\\/.test(p);
}

export function exportSaeLensScript(run: RunDescription): ExportedRun {
  const c = run.config;
  const steps = totalSteps(c);
  const unmapped = commonUnmapped(c);
  const sae: [string, PyValue][] = [
    ['d_in', run.dIn],
    ['d_sae', c.dSae],
    ['apply_b_dec_to_input', c.applyBDecToInput],
    // Feature Lens divides by one fixed scalar estimated from data and folds it back on export: SAELens's
    // expected_average_only_in does the same (and folds it into the saved weights).
    ['normalize_activations', c.normalizeInput ? 'expected_average_only_in' : 'none'],
  ];
  if (c.normalizeInput && c.inputNormTarget !== 'dIn') {
    unmapped.push("inputNormTarget unit (E‖x/C‖² = 1): SAELens's expected_average_only_in scales to E‖x‖² = d_in; both are folded into the saved weights");
  }
  switch (c.architecture) {
    case 'jumprelu': {
      const j = c.jumpRelu!;
      sae.push(['l0_coefficient', c.sparsityCoeff], ['l0_warm_up_steps', c.sparsityWarmupSteps], ['jumprelu_bandwidth', j.bandwidth]);
      if (j.sparsity === 'tanh') sae.push(['jumprelu_sparsity_loss_mode', 'tanh'], ['jumprelu_tanh_scale', j.tanhScale ?? 4]);
      if (j.steToInput) sae.push(['jumprelu_ste_to_input', true]);
      if (j.preActCoeff !== undefined) sae.push(['pre_act_loss_coefficient', j.preActCoeff]);
      if (j.decoderInitNorm !== undefined) sae.push(['decoder_init_norm', j.decoderInitNorm]);
      if (j.unitNormDecoder !== false) unmapped.push('jumpRelu.unitNormDecoder: SAELens JumpReLU does not keep decoder rows at unit norm');
      if (j.auxK) unmapped.push(`jumpRelu.auxK (coeff ${j.auxK.coeff}): SAELens JumpReLU has no AuxK`);
      if (j.frequencyPenalty) unmapped.push(`jumpRelu.frequencyPenalty (cap ${j.frequencyPenalty.cap}): SAELens has no firing-rate penalty`);
      if (j.warmupSelection === 'batch') unmapped.push('jumpRelu.warmupSelection batch: SAELens has no warm start');
      if (j.thresholdLrScale !== undefined && j.thresholdLrScale !== 1) unmapped.push(`jumpRelu.thresholdLrScale ${j.thresholdLrScale}: SAELens gives θ the same lr as the weights`);
      if (j.thresholdInit.kind === 'constant') sae.push(['jumprelu_init_threshold', j.thresholdInit.value]);
      else unmapped.push('jumpRelu.thresholdInit quantile: SAELens starts every θ at jumprelu_init_threshold (its default 0.01 is kept)');
      if (j.sparsity === 'targetL0') {
        unmapped.push(
          `jumpRelu.sparsity targetL0 (L0 ${j.targetL0}): SAELens's released trainer penalises L0 with a fixed l0_coefficient; ` +
            `the coefficient written (${c.sparsityCoeff}) is Feature Lens's starting λ, so tune it to reach L0 ${j.targetL0}`,
        );
      }
      if (j.thresholdParam === 'log') unmapped.push('jumpRelu.thresholdParam log: SAELens (≥ 6.48) learns θ directly');
      if (j.bandwidthStart !== undefined) unmapped.push(`jumpRelu.bandwidthStart ${j.bandwidthStart} (decaying bandwidth): SAELens keeps jumprelu_bandwidth fixed`);
      if (j.topKWarmupSteps) unmapped.push(`jumpRelu.topKWarmupSteps ${j.topKWarmupSteps}: SAELens has no TopK warm start`);
      if (j.switchBlendSteps) unmapped.push(`jumpRelu.switchBlendSteps ${j.switchBlendSteps}: SAELens has no TopK warm start to blend out`);
      if (j.switchThreshold && j.switchThreshold !== 'quantile') unmapped.push(`jumpRelu.switchThreshold ${j.switchThreshold}: SAELens has no TopK warm start`);
      break;
    }
    case 'relu':
    case 'gated':
      sae.push(['l1_coefficient', c.sparsityCoeff], ['l1_warm_up_steps', c.sparsityWarmupSteps]);
      if (c.gated?.auxK) unmapped.push(`gated.auxK (coeff ${c.gated.auxK.coeff}): SAELens Gated has no AuxK`);
      break;
    case 'topk':
    case 'batchtopk':
      sae.push(['k', c.k!]);
      if (c.topK?.auxCoeff !== undefined) sae.push(['aux_loss_coefficient', c.topK.auxCoeff]);
      if (c.architecture === 'batchtopk' && c.topK?.thresholdEmaRate !== undefined) sae.push(['topk_threshold_lr', c.topK.thresholdEmaRate]);
      if (c.topK?.matryoshkaWidths) sae.push(['matryoshka_widths', { raw: `[${c.topK.matryoshkaWidths.join(', ')}]` }]);
      if (c.topK?.matryoshkaAuxK === 'perLevel') sae.push(['use_matryoshka_aux_loss', true]);
      if (c.topK?.kAux !== undefined) unmapped.push(`topK.kAux ${c.topK.kAux}: SAELens uses d_in/2 dead latents for AuxK`);
      if (c.topK?.matryoshkaWeights) unmapped.push(`topK.matryoshkaWeights [${c.topK.matryoshkaWeights.join(', ')}]: SAELens weights every level 1`);
      break;
  }
  const runner: [string, PyValue][] = [
    ['model_name', run.modelName],
    ['hook_name', run.hookName],
    ['dataset_path', run.datasetPath],
    ['context_size', run.contextSize],
    // Feature Lens never trains on position 0 of a window (it attends only to itself).
    ['seqpos_slice', { raw: '(1, None)' }],
    ['prepend_bos', false],
    ['training_tokens', c.totalTokens],
    ['train_batch_size_tokens', c.batchSize],
    ['lr', c.lr],
    ['lr_warm_up_steps', c.lrWarmupSteps],
    ['lr_decay_steps', Math.round(c.lrDecayFraction * steps)],
    ['adam_beta1', c.beta1],
    ['adam_beta2', c.beta2],
    ['dead_feature_window', Math.max(1, Math.ceil(c.deadWindowTokens / c.batchSize))],
    ['seed', c.seed],
    ['device', 'cuda'],
    ['dtype', 'float32'],
    ['checkpoint_path', 'checkpoints'],
  ];
  if (c.lrDecayFraction > 0) unmapped.push(`lrDecayFraction ${c.lrDecayFraction}: mapped to lr_decay_steps; SAELens decays to lr_end (lr/10 by default), Feature Lens to 0`);
  const notes: string[] = [];
  if (isLocal(run.modelName)) notes.push(`model_name is a local path (${run.modelName}): replace it with the model's Hugging Face / TransformerLens name.`);
  if (isLocal(run.datasetPath)) notes.push(`dataset_path is a local folder (${run.datasetPath}): replace it with a Hugging Face dataset id, or load the folder as a dataset.`);
  const cls = c.topK?.matryoshkaWidths ? 'MatryoshkaBatchTopKTrainingSAEConfig' : SAELENS_SAE_CLASS[c.architecture];
  const lines = [
    '# SAELens training script written by `feature-lens export-run` from',
    `#   ${run.source}`,
    `# The same run as Feature Lens's: ${c.architecture}, d_sae ${c.dSae}, ${c.totalTokens} tokens in batches of ${c.batchSize}.`,
    ...(c.recipe ? [`# Recipe: ${c.recipe}`] : []),
    '# Train on a GPU machine with SAELens ≥ 6, then open the saved folder with "Feature Lens: Load SAE…".',
    ...notes.map((n) => `# NOTE: ${n}`),
    '#',
    '# Feature Lens settings without an exact SAELens equivalent:',
    ...unmapped.map((u) => `#   - ${u}`),
    '',
    `from sae_lens import LanguageModelSAERunnerConfig, LoggingConfig, SAETrainingRunner, ${cls}`,
    '',
    'cfg = LanguageModelSAERunnerConfig(',
    `    sae=${cls}(`,
    kwargs(sae, '        '),
    '    ),',
    kwargs(runner, '    '),
    '    logger=LoggingConfig(log_to_wandb=False),',
    ')',
    '',
    'sae = SAETrainingRunner(cfg).run()',
    'sae.save_model("feature-lens-export")',
    '',
  ];
  return { text: lines.join('\n'), fields: { [cls]: sae.map(([k]) => k), LanguageModelSAERunnerConfig: [...runner.map(([k]) => k), 'logger', 'sae'] }, unmapped };
}

/** sparsify names hook points after modules: the residual stream after block L is `layers.L`, its MLP's output `layers.L.mlp`. */
export function sparsifyHookpoint(hookName: string): string | undefined {
  const m = /^blocks\.(\d+)\.(hook_resid_post|hook_mlp_out)$/.exec(hookName);
  if (!m) return undefined;
  return m[2] === 'hook_resid_post' ? `layers.${m[1]}` : `layers.${m[1]}.mlp`;
}

export function exportSparsifyCommand(run: RunDescription): ExportedRun {
  const c = run.config;
  if (c.architecture !== 'topk') throw new Error(`sparsify trains TopK SAEs only; this run is ${c.architecture} (export it with --to saelens)`);
  const hookpoint = sparsifyHookpoint(run.hookName);
  if (!hookpoint) throw new Error(`site ${run.hookName} has no sparsify hook point (it hooks module outputs: blocks.L.hook_resid_post → layers.L, blocks.L.hook_mlp_out → layers.L.mlp)`);
  const unmapped = commonUnmapped(c);
  const ctx = run.contextSize;
  const args: [string, string][] = [
    ['--hookpoints', hookpoint],
    ['--k', String(c.k)],
    ['--num_latents', String(c.dSae)],
    ['--ctx_len', String(ctx)],
    // sparsify batches sequences: the nearest whole number of windows to Feature Lens's token batch.
    ['--batch_size', String(Math.max(1, Math.round(c.batchSize / ctx)))],
    ['--max_examples', String(Math.ceil(c.totalTokens / ctx))],
    ['--optimizer', 'adam'],
    ['--lr', String(c.lr)],
    ['--lr_warmup_steps', String(c.lrWarmupSteps)],
    ['--auxk_alpha', String(c.topK?.auxCoeff ?? 0)],
    ['--dead_feature_threshold', String(c.deadWindowTokens)],
    ['--init_seeds', String(c.seed)],
    ['--loss_fn', 'fvu'],
    ['--log_to_wandb', 'False'],
  ];
  unmapped.push(
    `normalizeInput ${c.normalizeInput}: sparsify trains on raw activations (its FVU loss is scale-free); the SAE it saves reads raw activations either way`,
    `applyBDecToInput ${c.applyBDecToInput}: sparsify always subtracts b_dec from an SAE's input`,
    `beta1 ${c.beta1}, beta2 ${c.beta2}: sparsify's Adam uses its own betas`,
    `lrDecayFraction ${c.lrDecayFraction}: sparsify has no final decay`,
    'position 0 of each window: sparsify trains on every position (exclude_tokens drops token ids, not positions)',
  );
  if (Math.round(c.batchSize / ctx) * ctx !== c.batchSize) unmapped.push(`batchSize ${c.batchSize} tokens: sparsify batches whole sequences of ${ctx} tokens`);
  if (c.topK?.kAux !== undefined) unmapped.push(`topK.kAux ${c.topK.kAux}: sparsify uses d_in/2`);
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const notes: string[] = [];
  if (isLocal(run.modelName)) notes.push(`the model is a local path (${run.modelName}): use its Hugging Face id.`);
  if (isLocal(run.datasetPath)) notes.push(`the dataset is a local folder (${run.datasetPath}): use a Hugging Face dataset id or a tokenized .bin.`);
  const lines = [
    '#!/bin/sh',
    '# sparsify command line written by `feature-lens export-run` from',
    `#   ${run.source}`,
    `# The same run as Feature Lens's: topk k ${c.k}, d_sae ${c.dSae}, ${c.totalTokens} tokens. torchrun spreads it over the`,
    '# GPUs of this node (add --nnodes/--node_rank/--master_addr for several); open checkpoints/<run>/' + hookpoint,
    '# with "Feature Lens: Load SAE…".',
    ...notes.map((n) => `# NOTE: ${n}`),
    '#',
    '# Feature Lens settings without an exact sparsify equivalent:',
    ...unmapped.map((u) => `#   - ${u}`),
    '',
    `torchrun --nproc_per_node gpu -m sparsify ${quote(run.modelName)} ${quote(run.datasetPath)} \\`,
    ...args.map(([k, v], i) => `  ${k} ${quote(v)}${i < args.length - 1 ? ' \\' : ''}`),
    '',
  ];
  return { text: lines.join('\n'), fields: { sparsify: args.map(([k]) => k.slice(2)) }, unmapped };
}
