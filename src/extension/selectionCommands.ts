import * as vscode from 'vscode';
import { Commands } from './commands';
import type { LensService } from './services/lensService';

/** Select Model / Select Hook Site / Load SAE…: what the analysis runs on, remembered per workspace. */
export function registerSelectionCommands(service: LensService, onError: (err: unknown) => void): vscode.Disposable {
  const reload = async (change: Parameters<LensService['select']>[0]) => {
    try {
      const info = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Feature Lens: loading' }, () => service.select(change));
      for (const w of (info as { warnings?: string[] }).warnings ?? []) void vscode.window.showWarningMessage(`Feature Lens: ${w}`);
    } catch (err) {
      onError(err);
    }
  };

  const pickPath = async (what: string, folders: boolean, files: boolean): Promise<string | undefined> => {
    const picked = await vscode.window.showOpenDialog({ canSelectFolders: folders, canSelectFiles: files, canSelectMany: false, openLabel: `Use this ${what}` });
    return picked?.[0]?.fsPath;
  };

  return vscode.Disposable.from(
    vscode.commands.registerCommand(Commands.selectModel, async (path?: string) => {
      if (typeof path === 'string') return reload({ modelPath: path || undefined });
      const choice = await vscode.window.showQuickPick(
        [
          { label: '$(package) Bundled model', description: 'tiny-lm', value: 'bundled' },
          { label: '$(folder-opened) Choose a model folder or .onnx file…', value: 'pick' },
        ],
        { placeHolder: `Model (now: ${service.loaded?.model.name ?? 'not loaded'})` },
      );
      if (!choice) return;
      if (choice.value === 'bundled') return reload({ modelPath: undefined });
      const p = await pickPath('model', true, true);
      if (p) return reload({ modelPath: p });
    }),
    vscode.commands.registerCommand(Commands.selectHookSite, async (site?: string) => {
      if (typeof site === 'string') return reload({ site: site || undefined });
      let info = service.loaded;
      try {
        info ??= await service.ensureLoaded();
      } catch (err) {
        return onError(err);
      }
      const items = info.sites.map((s) => ({
        label: s.name,
        description: `${s.dim} dims${s.name === info.site ? ' · current' : ''}${info.sae && s.name === info.sae.hookName ? ' · the SAE’s site' : ''}`,
      }));
      const choice = await vscode.window.showQuickPick(items, { placeHolder: 'Hook site the SAE reads' });
      if (choice) return reload({ site: choice.label });
    }),
    vscode.commands.registerCommand(Commands.loadSae, async (path?: string) => {
      if (typeof path === 'string') return reload({ saePath: path || undefined });
      const choice = await vscode.window.showQuickPick(
        [
          { label: '$(folder-opened) Choose an SAE folder or file…', value: 'pick' },
          { label: '$(package) Bundled SAE', value: 'bundled' },
        ],
        { placeHolder: `SAE (now: ${service.loaded?.sae?.name ?? 'none'})` },
      );
      if (!choice) return;
      if (choice.value === 'bundled') return reload({ saePath: undefined });
      const p = await pickPath('SAE', true, true);
      if (p) return reload({ saePath: p });
    }),
  );
}
