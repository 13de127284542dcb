// The quick-pick dialogue that turns a few answers into a TrainJob, for the model the analysis uses
// (Select Model) and the hook sites the worker found in it. Defaults follow the bundled SAE: JumpReLU at
// a target L0, 16× the site's width.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { SaeArchitecture } from '../../protocol/architectures';
import type { LoadResult } from '../../protocol/session';
import type { TrainJob } from '../../protocol/training';
import { presetWarnings, type PresetName } from '../../core/train/presets';

export interface Choice<T> extends vscode.QuickPickItem {
  readonly value: T;
}

/** The questions the dialogue asks: VS Code's pickers in use; scripted answers in the integration test. */
export interface DialogueUi {
  pick<T>(title: string, items: readonly Choice<T>[]): Promise<T | undefined>;
  askNumber(title: string, value: string, integer?: boolean): Promise<number | undefined>;
  chooseFolder(title: string): Promise<string | undefined>;
  confirmOverwrite(dir: string): Promise<boolean>;
  /** A warning before training with the ways to go on; undefined = cancel. */
  warn(message: string, options: readonly string[]): Promise<string | undefined>;
}

export const vscodeDialogue: DialogueUi = {
  async pick(title, items) {
    const chosen = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
    return chosen?.value;
  },
  async askNumber(title, value, integer = true) {
    const text = await vscode.window.showInputBox({
      title,
      value,
      ignoreFocusOut: true,
      validateInput: (s) => {
        const n = Number(s.replace(/_/g, ''));
        if (!Number.isFinite(n) || n <= 0) return 'Enter a positive number';
        return integer && !Number.isInteger(n) ? 'Enter a whole number' : undefined;
      },
    });
    return text === undefined ? undefined : Number(text.replace(/_/g, ''));
  },
  async chooseFolder(title) {
    const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, title, openLabel: 'Select' });
    return uris?.[0]?.fsPath;
  },
  async confirmOverwrite(dir) {
    return (await vscode.window.showWarningMessage(`${dir} already holds an SAE. Overwrite it?`, { modal: true }, 'Overwrite')) === 'Overwrite';
  },
  async warn(message, options) {
    return vscode.window.showWarningMessage(message, { modal: true }, ...options);
  },
};

/** The loaded model's sites, the one the analysis uses first, then the middle of the residual stream. */
export function siteChoices(loaded: LoadResult): Choice<string>[] {
  const resid = loaded.sites.filter((s) => s.name.endsWith('hook_resid_post'));
  const middle = resid[Math.max(0, Math.floor(resid.length / 2) - 1)]?.name;
  const items = loaded.sites.map((s) => {
    const notes = [`${s.dim} dims`];
    if (s.name === loaded.site) notes.push('the site the analysis uses');
    if (s.name === middle) notes.push('recommended (middle of the residual stream)');
    return { label: s.name, description: notes.join(' · '), value: s.name };
  });
  const rank = (name: string) => (name === loaded.site ? 0 : name === middle ? 1 : 2);
  return items.sort((a, b) => rank(a.value) - rank(b.value));
}

// Each label names the recipe the preset runs (src/core/train/presets.ts records the same in cfg.json).
const ARCHES: Choice<{ arch: SaeArchitecture; preset?: PresetName }>[] = [
  {
    label: 'JumpReLU (TopK warm start → target L0)',
    description: 'default: first 80 % trained as TopK, then JumpReLU θ from per-latent quantiles, target-L0 loss, AuxK and pre-activation loss on dead latents, frequency penalty on latents firing above the cap',
    value: { arch: 'jumprelu' },
  },
  {
    label: 'JumpReLU (Anthropic 2025)',
    description: 'tanh sparsity on f·‖W_dec‖, straight-through gradients into pre-activations, pre-activation loss on dead latents',
    value: { arch: 'jumprelu', preset: 'anthropic' },
  },
  { label: 'JumpReLU (paper preset)', description: 'Rajamanoharan et al. 2024 recipe, exactly (λ·L0, 10k-step λ warm-up)', value: { arch: 'jumprelu', preset: 'paper' } },
  { label: 'TopK', description: 'k latents per token, AuxK for dead latents', value: { arch: 'topk' } },
  { label: 'BatchTopK', description: 'k per token on average over a batch, AuxK for dead latents', value: { arch: 'batchtopk' } },
  { label: 'Matryoshka BatchTopK', description: 'BatchTopK with nested dictionary prefixes, one loss per prefix', value: { arch: 'batchtopk', preset: 'matryoshka' } },
  { label: 'Gated', description: 'gate and magnitude paths with shared weights, AuxK for dead latents', value: { arch: 'gated' } },
  { label: 'ReLU + L1', description: 'the classic baseline', value: { arch: 'relu' } },
];

export async function askTrainJob(loaded: LoadResult, extensionUri: vscode.Uri, cacheDir: string, ui: DialogueUi = vscodeDialogue): Promise<TrainJob | undefined> {
  const modelPath = loaded.model.path;
  const site = await ui.pick(`Hook site in ${loaded.model.name}`, siteChoices(loaded));
  if (!site) return undefined;

  const archChoice = await ui.pick('SAE architecture', ARCHES);
  if (!archChoice) return undefined;
  const { arch } = archChoice;
  let preset = archChoice.preset;

  const dIn = loaded.sites.find((s) => s.name === site)?.dim ?? loaded.model.dModel;
  const widths: Choice<number>[] = [16, 8, 32, 4].map((m) => ({ label: String(m * dIn), description: `${m}× the site's width${m === 16 ? ' (recommended)' : ''}`, value: m * dIn }));
  widths.push({ label: 'Other…', value: 0 });
  let dSae = await ui.pick('Dictionary size d_sae', widths);
  if (dSae === 0) dSae = await ui.askNumber('d_sae (number of latents)', String(16 * dIn));
  if (!dSae) return undefined;

  let sparsity: Partial<Pick<TrainJob, 'targetL0' | 'k' | 'l0Coeff'>> = {};
  if (arch === 'topk' || arch === 'batchtopk') {
    const k = await ui.askNumber('k (active latents per token)', '32');
    if (!k) return undefined;
    sparsity = { k };
  } else if (preset === 'paper' || preset === 'anthropic' || arch === 'relu' || arch === 'gated') {
    // Gated and ReLU take λ directly (λ 0.15 gave Gated L0 33–38 on the bundled model, models/README.md).
    const fallback = preset === 'paper' ? '0.001' : preset === 'anthropic' ? '5' : arch === 'gated' ? '0.15' : '0.05';
    const c = await ui.askNumber('Sparsity coefficient λ', fallback, false);
    if (!c) return undefined;
    sparsity = { l0Coeff: c };
  } else {
    const l0 = await ui.askNumber('Target L0 (active latents per token)', '32');
    if (!l0) return undefined;
    sparsity = { targetL0: l0 };
  }

  const budgets: Choice<number>[] = [1e6, 2e6, 5e6, 10e6].map((t) => ({ label: `${t / 1e6}M tokens`, description: t === 2e6 ? 'a few minutes on a laptop' : undefined, value: t }));
  budgets.push({ label: 'Other…', value: 0 });
  let tokens = await ui.pick('Training budget', budgets);
  if (tokens === 0) tokens = await ui.askNumber('Training tokens', '2000000');
  if (!tokens) return undefined;

  // Budgets a recipe cannot use as intended are said before training; the paper's λ warm-up can be scaled.
  for (const warning of presetWarnings({ architecture: arch, dSae, totalTokens: tokens, ...sparsity, ...(preset ? { preset } : {}) })) {
    const scale = 'Scale the warm-up to the budget';
    const options = preset === 'paper' ? [scale, 'Keep the paper recipe'] : ['Train anyway'];
    const answer = await ui.warn(warning, options);
    if (answer === undefined) return undefined;
    if (answer === scale) preset = 'paper-scaled';
  }

  const corpusItems: Choice<string>[] = [{ label: 'Bundled sample corpus', description: 'models/sample-corpus', value: vscode.Uri.joinPath(extensionUri, 'models', 'sample-corpus').fsPath }];
  for (const f of vscode.workspace.workspaceFolders ?? []) corpusItems.push({ label: `Workspace: ${f.name}`, description: f.uri.fsPath, value: f.uri.fsPath });
  corpusItems.push({ label: 'Choose a folder…', value: '' });
  let corpusDir = await ui.pick('Text to harvest activations from', corpusItems);
  if (corpusDir === '') corpusDir = await ui.chooseFolder('Corpus folder (text files, searched recursively)');
  if (!corpusDir) return undefined;

  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const defaultOut = root ? join(root, '.feature-lens', 'sae', `${site}-${arch}-${stamp}`) : undefined;
  const outItems: Choice<string>[] = defaultOut ? [{ label: 'In the workspace', description: defaultOut, value: defaultOut }] : [];
  outItems.push({ label: 'Choose a folder…', value: '' });
  let outDir = await ui.pick('Where to save the SAE', outItems);
  if (outDir === '') {
    const parent = await ui.chooseFolder('Folder for the trained SAE');
    outDir = parent ? join(parent, `${site}-${arch}-${stamp}`) : undefined;
  }
  if (!outDir) return undefined;
  if (existsSync(join(outDir, 'cfg.json')) && !(await ui.confirmOverwrite(outDir))) return undefined;

  return {
    site,
    arch,
    dSae,
    ...sparsity,
    ...(preset ? { preset } : {}),
    tokens,
    data: { kind: 'corpus', modelPath, corpusDir, cacheDir },
    outDir,
    checkpointEvery: 500,
    seed: 0,
  };
}
