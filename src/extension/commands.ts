// Every command id lives here; package.json's contributes.commands must list the same ids.
export const Commands = {
  showWelcome: 'featureLens.showWelcome',
  analyzeSelection: 'featureLens.analyzeSelection',
  selectModel: 'featureLens.selectModel',
  selectHookSite: 'featureLens.selectHookSite',
  loadSae: 'featureLens.loadSae',
  showFeature: 'featureLens.showFeature',
  highlightFeature: 'featureLens.highlightFeature',
  clearHighlights: 'featureLens.clearHighlights',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];
