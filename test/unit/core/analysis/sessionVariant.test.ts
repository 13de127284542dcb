// The load selection's modelVariant reaches the runtime: the session loads that copy of the weights, says
// which file it is, and loads again when only the variant changes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLoaders } from '../../../../src/core/analysis/defaultLoaders';
import type { AnalysisSae } from '../../../../src/core/analysis/ports';
import { modelFingerprint } from '../../../../src/core/features/fingerprints';
import { AnalysisSession } from '../../../../src/core/analysis/session';
import { buildFamily, FAMILY_BASE } from '../../../fixtures/familyModel';
import { tempDir, type TempDir } from '../../../fixtures/tempModel';
import { familyTokenizerJson } from '../../../fixtures/tokenizers';

let tmp: TempDir;
before(() => {
  tmp = tempDir();
  tmp.write('tjs/config.json', JSON.stringify({ _name_or_path: 'tiny-tjs', model_type: 'llama' }));
  tmp.write('tjs/tokenizer.json', JSON.stringify(familyTokenizerJson('llama2')));
  tmp.write('tjs/onnx/model.onnx', buildFamily({ ...FAMILY_BASE, vocab: 400, norm: 'rms' }).bytes);
  tmp.write('tjs/onnx/model_quantized.onnx', buildFamily({ ...FAMILY_BASE, vocab: 400, norm: 'rms', weights: 'int8' }).bytes);
  tmp.write('tjs/onnx/model_q4.onnx', buildFamily({ ...FAMILY_BASE, vocab: 400, norm: 'rms', weights: 'q4' }).bytes);
});
after(() => tmp.cleanup());

test('a session loads the variant in its selection and reloads when only the variant changes', async () => {
  const loaders = defaultLoaders({ cacheDir: tmp.path('cache'), intraOpThreads: 1 });
  // A root without models/: no bundled SAE, the model alone.
  const q4 = await AnalysisSession.open({ modelPath: tmp.path('tjs'), modelVariant: 'q4' }, tmp.path('no-root'), loaders);
  assert.equal(q4.info.model.variant, 'q4');
  assert.match(q4.info.model.file ?? '', /model_q4\.onnx$/);
  const int8 = await AnalysisSession.open({ modelPath: tmp.path('tjs'), modelVariant: 'int8' }, tmp.path('no-root'), loaders, q4);
  assert.notEqual(int8.lm, q4.lm, 'a new variant is a new model');
  assert.match(int8.info.model.file ?? '', /model_quantized\.onnx$/);
  const fp32 = await AnalysisSession.open({ modelPath: tmp.path('tjs') }, tmp.path('no-root'), loaders, int8);
  assert.equal(fp32.info.model.variant, undefined);
  assert.match(fp32.lm.info.onnxFile, /onnx[/\\]model\.onnx$/);
  await fp32.dispose();
});

test('a feature index is tied to the variant it was built with: each copy of the weights has its own model fingerprint', async () => {
  const loaders = defaultLoaders({ cacheDir: tmp.path('cache'), intraOpThreads: 1 });
  const prints: string[] = [];
  let previous: AnalysisSession | undefined;
  for (const modelVariant of [undefined, 'int8', 'q4']) {
    const s: AnalysisSession = await AnalysisSession.open({ modelPath: tmp.path('tjs'), ...(modelVariant ? { modelVariant } : {}) }, tmp.path('no-root'), loaders, previous);
    // Only the model side of the target matters here; the SAE is passed through untouched.
    const target = s.indexTarget({} as AnalysisSae, 'blocks.0.hook_resid_post');
    assert.equal(target.modelFile, s.lm.info.onnxFile);
    prints.push(modelFingerprint(target.modelPath, target.model.name, target.modelFile));
    if (previous && previous.lm !== s.lm) await previous.dispose();
    previous = s;
  }
  await previous?.dispose();
  assert.equal(new Set(prints).size, 3, `fingerprints ${prints.join(', ')}`);
  assert.equal(prints[0], modelFingerprint(tmp.path('tjs'), 'unused'), 'the default variant keeps the fingerprint of indexes built before variants existed');
});
