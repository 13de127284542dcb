// Where things live, relative to the repository (never to ../shared).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const integrationDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(integrationDir, '..', '..');
export const hostTestsDir = join(integrationDir, 'host');
export const uiTestsDir = join(integrationDir, 'ui');
export const artifactsDir = join(repoRoot, 'test-artifacts', 'integration');
