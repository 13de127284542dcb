// Every command id lives here; package.json's contributes.commands must list the same ids.
export const Commands = {
  showWelcome: 'featureLens.showWelcome',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];
