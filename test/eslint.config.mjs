// Layering is enforced here, not by convention: see docs/architecture.md.
import tseslint from 'typescript-eslint';

const noVscode = { name: 'vscode', message: 'Only src/extension may import vscode.', allowTypeImports: true };
const noOrt = { name: 'onnxruntime-node', message: 'Only src/core/runtime may import onnxruntime-node.' };
// The protocol defines the data that crosses a boundary; the core returns those types (type imports only,
// erased at build, so the core still runs without any messaging code). See docs/architecture.md.
const protocolTypesOnly = { group: ['**/protocol/**'], allowTypeImports: true, message: 'The core may import protocol types only (import type).' };

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.vscode-test/**', 'tools/build-model/out/**', 'models/**', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The in-host integration tests and their fixtures are CommonJS: VS Code's extension host require()s them.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/runtime/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [noVscode, noOrt],
          patterns: [protocolTypesOnly, { group: ['**/extension/**', '**/worker/**'], message: 'The core does not know about the host or the worker.' }],
        },
      ],
    },
  },
  {
    // The rooms below train/ compute with the tensor room; they never reach up into the trainer.
    files: ['src/core/{sae,inference,metrics,store,tensor}/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [noVscode, noOrt],
          patterns: [
            protocolTypesOnly,
            { group: ['**/extension/**', '**/worker/**'], message: 'The core does not know about the host or the worker.' },
            { group: ['**/train/**', '../train', './train'], message: 'sae/, inference/, metrics/, store/ and tensor/ do not import train/ (shared types live in src/core/tensor).' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/runtime/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [noVscode], patterns: [protocolTypesOnly, { group: ['**/extension/**', '**/worker/**'], message: 'The core does not know about the host or the worker.' }] },
      ],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [noVscode, noOrt],
          patterns: [
            { group: ['node:*'], message: 'The protocol is shared with the browser: no Node built-ins.' },
            { group: ['**/core/**', '**/extension/**', '**/worker/**', '**/webview-ui/**'], message: 'The protocol depends on nothing else.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/worker/**/*.ts', 'src/cli/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [noVscode, noOrt], patterns: [{ group: ['**/extension/**'], message: 'Worker and CLI run without VS Code.' }] },
      ],
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [noOrt], patterns: [{ group: ['**/webview-ui/**', '**/worker/**'], message: 'The host talks to the worker and webview through src/protocol.' }] },
      ],
    },
  },
  {
    files: ['webview-ui/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [noVscode, noOrt],
          patterns: [
            { group: ['node:*'], message: 'The webview runs in a browser.' },
            { group: ['**/src/core/**', '**/src/extension/**', '**/src/worker/**'], message: 'The webview imports only src/protocol.' },
          ],
        },
      ],
    },
  },
);
