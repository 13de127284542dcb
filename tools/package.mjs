// npm run package [-- --target <vsce target>]   (default linux-x64)
// Builds the bundles for production and packs a platform-specific .vsix with @vscode/vsce.
// onnxruntime-node ships unbundled, with only the target platform's native binaries.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';

// vsce target -> onnxruntime-node's bin/napi-v6/<platform>/<arch> folder.
const ortFolders = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'darwin-arm64': 'darwin/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
};
const ortBinary = (target) => `bin/napi-v6/${ortFolders[target]}/onnxruntime_binding.node`;

const targetFlag = process.argv.indexOf('--target');
const target = targetFlag >= 0 ? process.argv[targetFlag + 1] : 'linux-x64';
if (!ortFolders[target]) {
  console.error(`No onnxruntime-node binaries for target "${target}"; choose one of ${Object.keys(ortFolders).join(', ')}`);
  process.exit(2);
}

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`${command} ${args.join(' ')} failed (exit ${result.status})`);
    process.exit(1);
  }
}

function removeSourceMaps(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) removeSourceMaps(path);
    else if (name.endsWith('.map')) unlinkSync(path);
  }
}

run(process.execPath, ['tools/build.mjs', '--production']);
// Source maps of minified bundles are developer material, not shipped (npm run build brings them back).
removeSourceMaps('dist');

const { name, version } = JSON.parse(readFileSync('package.json', 'utf8'));
const vsix = `${name}-${version}-${target}.vsix`;
const workDir = mkdtempSync(join(tmpdir(), 'feature-lens-package-'));
const ignoreFile = join(workDir, '.vscodeignore');
writeFileSync(ignoreFile, readFileSync('.vscodeignore', 'utf8').replaceAll('napi-v6/linux/x64/', `napi-v6/${ortFolders[target]}/`));

try {
  // No `repository` in package.json (none is published yet): allow that, and keep README links relative
  // (they resolve inside the installed extension, which ships media/).
  run(join('node_modules', '.bin', 'vsce'), [
    'package',
    '--target', target,
    '--out', vsix,
    '--ignoreFile', ignoreFile,
    '--allow-missing-repository',
    '--no-rewrite-relative-links',
  ]);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}

const entries = [];
unzipSync(readFileSync(vsix), {
  filter: (file) => {
    entries.push({ name: file.name, size: file.originalSize });
    return false;
  },
});
const required = ['extension/package.json', 'extension/dist/extension.js', `extension/node_modules/onnxruntime-node/${ortBinary(target)}`];
const missing = required.filter((path) => !entries.some((e) => e.name === path));
const foreign = entries.filter((e) => /onnxruntime-node\/bin\//.test(e.name) && !e.name.includes(`napi-v6/${ortFolders[target]}/`));
const sizeMb = (statSync(vsix).size / 1e6).toFixed(1);
console.log(`${vsix}: ${sizeMb} MB, ${entries.length} files`);
if (missing.length > 0 || foreign.length > 0) {
  for (const path of missing) console.error(`missing from the .vsix: ${path}`);
  for (const e of foreign) console.error(`another platform's binary in the .vsix: ${e.name}`);
  process.exit(1);
}
