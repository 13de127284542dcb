import * as vscode from 'vscode';
import { basename } from 'node:path';
import { Commands } from '../protocol/commands';
import type { LoadResult, LoadSelection } from '../protocol/session';
import type { LensService } from './services/lensService';
import { pickVariant } from './variantPick';

/** Programmatic use of Load SAE… (tests, links): which SAE of a multi-SAE folder, and at which site(s). */
export interface LoadSaeOptions {
  readonly hook?: string;
  readonly site?: string;
  /** Transcoders: the output site. */
  readonly siteOut?: string;
}

/**
 * Select Model / Select Hook Site / Load SAE…: what the analysis runs on, remembered per workspace. A load
 * that leaves a choice open (a folder of several SAEs, an SAE whose hook the model lacks) asks for it and
 * loads again; the commands return what ended up loaded.
 */
export function registerLoadCommands(service: LensService, onError: (err: unknown) => void): vscode.Disposable {
  const load = async (change: Partial<LoadSelection>): Promise<LoadResult> => {
    const info = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Feature Lens: loading' }, () => service.select(change));
    for (const w of info.warnings) void vscode.window.showWarningMessage(`Feature Lens: ${w}`);
    return info;
  };

  const reload = async (change: Partial<LoadSelection>): Promise<LoadResult | undefined> => {
    try {
      let info = await load(change);
      // At most three questions: which SAE of the folder, which site it reads, which site a transcoder writes.
      for (let round = 0; info.saeChoice && round < 3; round++) {
        const answer = await askChoice(info);
        if (!answer) break;
        info = await load(answer);
      }
      return info;
    } catch (err) {
      onError(err);
      return undefined;
    }
  };

  return vscode.Disposable.from(
    // `variant` (programmatic use): which weights of a folder holding several; else the remembered one.
    vscode.commands.registerCommand(Commands.selectModel, async (path?: string, variant?: string) => {
      if (typeof path === 'string') {
        const chosen = typeof variant === 'string' ? variant : path ? await pickVariant(path, false) : undefined;
        return reload({ modelPath: path || undefined, modelVariant: chosen ?? undefined });
      }
      const choice = await vscode.window.showQuickPick(
        [
          { label: '$(package) Bundled model', description: 'tiny-lm', value: 'bundled' },
          { label: '$(folder-opened) Choose a model folder…', value: 'folder' },
          { label: '$(file) Choose an .onnx file…', value: 'file' },
        ],
        { placeHolder: `Model (now: ${service.loaded?.model.name ?? 'not loaded'})` },
      );
      if (!choice) return undefined;
      if (choice.value === 'bundled') return reload({ modelPath: undefined, modelVariant: undefined });
      const p = await pickPath('model', choice.value === 'folder', { 'ONNX models': ['onnx'] });
      if (!p) return undefined;
      const picked = await pickVariant(p, true);
      return picked === null ? undefined : reload({ modelPath: p, modelVariant: picked });
    }),
    vscode.commands.registerCommand(Commands.selectHookSite, async (site?: string) => {
      if (typeof site === 'string') return reload({ site: site || undefined });
      let info = service.loaded;
      try {
        info ??= await service.ensureLoaded();
      } catch (err) {
        onError(err);
        return undefined;
      }
      const answer = await pickSite(info);
      return answer ? reload(answer) : undefined;
    }),
    vscode.commands.registerCommand(Commands.loadSae, async (path?: string, options?: LoadSaeOptions) => {
      if (typeof path === 'string') {
        return reload({
          saePath: path || undefined,
          ...(options?.hook ? { saeHook: options.hook } : {}),
          ...(options?.site ? { site: options.site } : {}),
          ...(options?.siteOut ? { siteOut: options.siteOut } : {}),
        });
      }
      // Windows and Linux dialogs pick files or folders, not both: ask which first.
      const choice = await vscode.window.showQuickPick(
        [
          { label: '$(folder-opened) Choose an SAE folder…', description: 'SAELens, sparsify (one or several hooks), Gemma Scope', value: 'folder' },
          { label: '$(file) Choose an SAE file…', description: 'params.npz, ae.pt, cfg.json / *.safetensors', value: 'file' },
          { label: '$(package) Bundled SAE', value: 'bundled' },
        ],
        { placeHolder: `SAE (now: ${service.loaded?.sae?.name ?? 'none'})` },
      );
      if (!choice) return undefined;
      if (choice.value === 'bundled') return reload({ saePath: undefined });
      const p = await pickPath('SAE', choice.value === 'folder', { 'SAE checkpoints': ['npz', 'pt', 'pth', 'safetensors', 'json'] });
      return p ? reload({ saePath: p }) : undefined;
    }),
  );
}

async function pickPath(what: string, folder: boolean, filters: Record<string, string[]>): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: folder,
    canSelectFiles: !folder,
    canSelectMany: false,
    openLabel: `Use this ${what}`,
    ...(folder ? {} : { filters: { ...filters, 'All files': ['*'] } }),
  });
  return picked?.[0]?.fsPath;
}

/** The next load for an open choice, or undefined when the user cancels. */
async function askChoice(info: LoadResult): Promise<Partial<LoadSelection> | undefined> {
  const choice = info.saeChoice;
  if (!choice) return undefined;
  if (choice.kind === 'hook') {
    const hook = await vscode.window.showQuickPick([...choice.hooks], {
      placeHolder: `${basename(choice.path)} holds ${choice.hooks.length} SAEs: which one?`,
    });
    return hook ? { saePath: choice.path, saeHook: hook } : undefined;
  }
  void vscode.window.showInformationMessage(`Feature Lens: ${info.saeProblem ?? `choose the site SAE ${choice.name} reads.`}`);
  if (choice.kind === 'siteOut') return pickOutputSite(info, choice);
  return pickSite(info);
}

/** The site a transcoder predicts: any site of width d_out (its reconstruction error and splices go there). */
async function pickOutputSite(info: LoadResult, choice: Extract<NonNullable<LoadResult['saeChoice']>, { kind: 'siteOut' }>): Promise<Partial<LoadSelection> | undefined> {
  const items = info.sites.map((s) => {
    const notes = [`${s.dim} dims`];
    if (choice.hookNameOut === s.name) notes.push('the transcoder’s output hook');
    if (s.dim !== choice.dOut) notes.push(`≠ d_out ${choice.dOut}`);
    return { label: s.name, description: notes.join(' · '), dim: s.dim };
  });
  const picked = await vscode.window.showQuickPick(items, { placeHolder: `Site transcoder ${choice.name} predicts (width ${choice.dOut}); it reads ${choice.site}` });
  if (!picked) return undefined;
  if (picked.dim !== choice.dOut) {
    void vscode.window.showErrorMessage(`Feature Lens: transcoder ${choice.name} writes width ${choice.dOut}, but site ${picked.label} has width ${picked.dim}.`);
    return undefined;
  }
  return { site: choice.site, siteOut: picked.label };
}

/** A site of the model for the SAE in `info` (loaded or waiting for its site); a width that is not d_in is refused. */
async function pickSite(info: LoadResult): Promise<{ site: string } | undefined> {
  const pending = info.saeChoice?.kind === 'site' ? info.saeChoice : undefined;
  const sae = pending ? { name: pending.name, dIn: pending.dIn, hookName: pending.hookName } : info.sae;
  const items = info.sites.map((s) => {
    const notes = [`${s.dim} dims`];
    if (!pending && s.name === info.site) notes.push('current');
    if (sae?.hookName === s.name) notes.push('the SAE’s hook');
    if (sae && s.dim !== sae.dIn) notes.push(`≠ SAE d_in ${sae.dIn}`);
    return { label: s.name, description: notes.join(' · '), dim: s.dim };
  });
  const picked = await vscode.window.showQuickPick(items, {
    placeHolder: sae ? `Hook site SAE ${sae.name} reads (width ${sae.dIn})` : 'Hook site the SAE reads',
  });
  if (!picked) return undefined;
  if (sae && picked.dim !== sae.dIn) {
    void vscode.window.showErrorMessage(
      `Feature Lens: SAE ${sae.name} has d_in ${sae.dIn}, but site ${picked.label} of model ${info.model.name} has width ${picked.dim}. Choose a site of width ${sae.dIn}.`,
    );
    return undefined;
  }
  return { site: picked.label };
}
