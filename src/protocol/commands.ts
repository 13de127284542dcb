// Every command id, in one place: the host registers them, the webview asks for some of them to run,
// and package.json's contributes.commands lists the same ids (test/unit/protocol/commands.test.ts).
export const Commands = {
  showWelcome: 'featureLens.showWelcome',
  analyzeSelection: 'featureLens.analyzeSelection',
  selectModel: 'featureLens.selectModel',
  selectHookSite: 'featureLens.selectHookSite',
  loadSae: 'featureLens.loadSae',
  showFeature: 'featureLens.showFeature',
  highlightFeature: 'featureLens.highlightFeature',
  clearHighlights: 'featureLens.clearHighlights',
  trainSae: 'featureLens.trainSae',
  cancelTraining: 'featureLens.cancelTraining',
  resumeTraining: 'featureLens.resumeTraining',
  runConfig: 'featureLens.runConfig',
  compareCheckpoints: 'featureLens.compareCheckpoints',
  // The Feature Lens view's item actions.
  refreshTree: 'featureLens.tree.refresh',
  analyzeWithSae: 'featureLens.tree.analyzeWithSae',
  compareFromTree: 'featureLens.tree.compare',
  evaluateFromTree: 'featureLens.tree.evaluate',
  resumeRun: 'featureLens.tree.resume',
  cancelRun: 'featureLens.tree.cancelRun',
  pauseRun: 'featureLens.tree.pauseRun',
  /** The Training view of a run folder (from the tree), or of the run going in this window (palette). */
  openTrainingView: 'featureLens.showTraining',
  revealFolder: 'featureLens.tree.reveal',
  deleteFolder: 'featureLens.tree.delete',
  findFeature: 'featureLens.findFeature',
  buildFeatureIndex: 'featureLens.buildFeatureIndex',
  testHypothesis: 'featureLens.testHypothesis',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

/**
 * Commands the integration tests use to reach inside the host (src/extension/testHooks.ts); registered
 * only when VS Code runs the extension's tests, and not contributed in package.json.
 */
export const TestCommands = {
  postToWelcome: 'featureLens._test.postToWelcome',
  postToTokens: 'featureLens._test.postToTokens',
  tokenMessages: 'featureLens._test.tokenMessages',
  lastAnalysis: 'featureLens._test.lastAnalysis',
  highlightState: 'featureLens._test.highlightState',
  killWorker: 'featureLens._test.killWorker',
  loadWithoutPrompts: 'featureLens._test.loadWithoutPrompts',
  logFolder: 'featureLens._test.logFolder',
  trainJob: 'featureLens._test.trainJob',
  trainDialogue: 'featureLens._test.trainDialogue',
  treeSnapshot: 'featureLens._test.treeSnapshot',
  lastDashboard: 'featureLens._test.lastDashboard',
  trainingRuns: 'featureLens._test.trainingRuns',
  stopTrainingNow: 'featureLens._test.stopTrainingNow',
  compareState: 'featureLens._test.compareState',
  postToCompare: 'featureLens._test.postToCompare',
  lastHypothesis: 'featureLens._test.lastHypothesis',
  postToHypothesis: 'featureLens._test.postToHypothesis',
} as const;

/** Commands the webview may ask the host to run; anything else is refused. */
export const WEBVIEW_RUNNABLE_COMMANDS: readonly CommandId[] = [
  Commands.showWelcome,
  Commands.analyzeSelection,
  Commands.loadSae,
  Commands.selectModel,
  Commands.selectHookSite,
  Commands.clearHighlights,
];
