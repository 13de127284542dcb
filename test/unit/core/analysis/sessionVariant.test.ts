// The load selection's modelVariant reaches the runtime: the session loads that copy of the weights, says
// which file it is, and loads again when only the variant changes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultLoaders } from '../../../../src/core/analysis/defaultLoaders';
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
