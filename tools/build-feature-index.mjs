// Rebuilds the feature index and automatic labels shipped beside the bundled SAE(s), from the bundled
// sample corpus. Run after retraining a bundled SAE (its old index is then stale and would be rebuilt on
// first use anyway):  npm run build && node tools/build-feature-index.mjs [<sae folder> …]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const saes = process.argv.length > 2 ? process.argv.slice(2) : ['models/sae/blocks.1.hook_resid_post-jumprelu'];
if (!existsSync('dist/cli.js')) {
  console.error('dist/cli.js is missing: run npm run build first');
  process.exit(1);
}
const run = (args) => {
  console.log(`$ node dist/cli.js ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
for (const sae of saes) {
  run(['index', '--sae', sae, '--corpus', 'models/sample-corpus']);
  run(['label', '--sae', sae, '--corpus', 'models/sample-corpus']);
}
