// The quick-pick dialogue that turns a few answers into a TrainJob. Defaults follow the bundled SAE:
// a middle-layer residual site, JumpReLU at a target L0, 16× width.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { SaeArchitecture } from '../../protocol/architectures';
import type { TrainJob } from '../../protocol/training';

interface ModelShape {
  readonly layers: number;
  readonly dModel: number;
}

/** Layer count and width from the model's config.json (GPT-2 or Llama-style keys). */
export function readModelShape(modelDir: string): ModelShape | undefined {
  try {
    const cfg = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const layers = Number(cfg.n_layer ?? cfg.num_hidden_layers);
    const dModel = Number(cfg.n_embd ?? cfg.hidden_size ?? cfg.d_model);
    return Number.isInteger(layers) && layers > 0 && Number.isInteger(dModel) && dModel > 0 ? { layers, dModel } : undefined;
  } catch {
    return undefined;
  }
}

export function modelDirectory(extensionUri: vscode.Uri): string {
  const configured = vscode.workspace.getConfiguration('featureLens').get<string>('modelPath', '');
  return configured || vscode.Uri.joinPath(extensionUri, 'models', 'tiny-lm').fsPath;
}

interface Choice<T> extends vscode.QuickPickItem {
  readonly value: T;
}

async function pick<T>(title: string, items: Choice<T>[]): Promise<T | undefined> {
  const chosen = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true });
  return chosen?.value;
}

async function askNumber(title: string, value: string, integer = true): Promise<number | undefined> {
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
}

async function chooseFolder(title: string): Promise<string | undefined> {
  const uris = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, title, openLabel: 'Select' });
  return uris?.[0]?.fsPath;
}

const ARCHES: Choice<{ arch: SaeArchitecture; preset?: string }>[] = [
  { label: 'JumpReLU', description: 'default: reaches a target L0 within a few million tokens', value: { arch: 'jumprelu' } },
  { label: 'JumpReLU (paper preset)', description: 'Rajamanoharan et al. 2024 recipe, exactly', value: { arch: 'jumprelu', preset: 'paper' } },
  { label: 'TopK', description: 'k latents per token, AuxK for dead latents', value: { arch: 'topk' } },
  { label: 'BatchTopK', description: 'k per token on average over a batch', value: { arch: 'batchtopk' } },
  { label: 'Gated', description: 'gate and magnitude paths with shared weights', value: { arch: 'gated' } },
  { label: 'ReLU + L1', description: 'the classic baseline', value: { arch: 'relu' } },
];

export async function askTrainJob(extensionUri: vscode.Uri, cacheDir: string): Promise<TrainJob | undefined> {
  const modelPath = modelDirectory(extensionUri);
  const shape = readModelShape(modelPath);
  let site: string | undefined;
  if (shape) {
    const middle = Math.max(0, Math.floor(shape.layers / 2) - 1);
    const items: Choice<string>[] = [];
    for (let l = 0; l < shape.layers; l++) {
      for (const kind of ['hook_resid_pre', 'hook_resid_post', 'hook_mlp_out', 'hook_attn_out']) {
        const name = `blocks.${l}.${kind}`;
        items.push({ label: name, description: l === middle && kind === 'hook_resid_post' ? 'recommended (middle of the residual stream)' : undefined, value: name });
      }
    }
    items.sort((a, b) => (b.description ? 1 : 0) - (a.description ? 1 : 0));
    site = await pick(`Hook site in ${basename(modelPath)}`, items);
  } else {
    site = await vscode.window.showInputBox({ title: 'Hook site (e.g. blocks.1.hook_resid_post)', ignoreFocusOut: true });
  }
  if (!site) return undefined;

  const archChoice = await pick('SAE architecture', ARCHES);
  if (!archChoice) return undefined;
  const { arch, preset } = archChoice;

  const dModel = shape?.dModel;
  const widths: Choice<number>[] = dModel
    ? [16, 8, 32, 4].map((m) => ({ label: String(m * dModel), description: `${m}× d_model${m === 16 ? ' (recommended)' : ''}`, value: m * dModel }))
    : [];
  widths.push({ label: 'Other…', value: 0 });
  let dSae = await pick('Dictionary size d_sae', widths);
  if (dSae === 0) dSae = await askNumber('d_sae (number of latents)', String(dModel ? 16 * dModel : 2048));
  if (!dSae) return undefined;

  let sparsity: Partial<Pick<TrainJob, 'targetL0' | 'k' | 'l0Coeff'>> = {};
  if (arch === 'topk' || arch === 'batchtopk') {
    const k = await askNumber('k (active latents per token)', '32');
    if (!k) return undefined;
    sparsity = { k };
  } else if (preset === 'paper' || arch === 'relu' || arch === 'gated') {
    // Gated and ReLU take λ directly (λ 0.15 gave Gated L0 33–38 on the bundled model, models/README.md).
    const c = await askNumber('Sparsity coefficient λ', preset === 'paper' ? '0.001' : arch === 'gated' ? '0.15' : '0.05', false);
    if (!c) return undefined;
    sparsity = { l0Coeff: c };
  } else {
    const l0 = await askNumber('Target L0 (active latents per token)', '32');
    if (!l0) return undefined;
    sparsity = { targetL0: l0 };
  }

  const budgets: Choice<number>[] = [1e6, 2e6, 5e6, 10e6].map((t) => ({ label: `${t / 1e6}M tokens`, description: t === 2e6 ? 'a few minutes on a laptop' : undefined, value: t }));
  budgets.push({ label: 'Other…', value: 0 });
  let tokens = await pick('Training budget', budgets);
  if (tokens === 0) tokens = await askNumber('Training tokens', '2000000');
  if (!tokens) return undefined;

  const corpusItems: Choice<string>[] = [{ label: 'Bundled sample corpus', description: 'models/sample-corpus', value: vscode.Uri.joinPath(extensionUri, 'models', 'sample-corpus').fsPath }];
  for (const f of vscode.workspace.workspaceFolders ?? []) corpusItems.push({ label: `Workspace: ${f.name}`, description: f.uri.fsPath, value: f.uri.fsPath });
  corpusItems.push({ label: 'Choose a folder…', value: '' });
  let corpusDir = await pick('Text to harvest activations from', corpusItems);
  if (corpusDir === '') corpusDir = await chooseFolder('Corpus folder (text files, searched recursively)');
  if (!corpusDir) return undefined;

  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const defaultOut = root ? join(root, '.feature-lens', 'sae', `${site}-${arch}-${stamp}`) : undefined;
  const outItems: Choice<string>[] = defaultOut ? [{ label: 'In the workspace', description: defaultOut, value: defaultOut }] : [];
  outItems.push({ label: 'Choose a folder…', value: '' });
  let outDir = await pick('Where to save the SAE', outItems);
  if (outDir === '') {
    const parent = await chooseFolder('Folder for the trained SAE');
    outDir = parent ? join(parent, `${site}-${arch}-${stamp}`) : undefined;
  }
  if (!outDir) return undefined;
  if (existsSync(join(outDir, 'cfg.json'))) {
    const ok = await vscode.window.showWarningMessage(`${outDir} already holds an SAE. Overwrite it?`, { modal: true }, 'Overwrite');
    if (ok !== 'Overwrite') return undefined;
  }

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
