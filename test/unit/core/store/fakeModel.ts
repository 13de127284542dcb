// A stand-in language model for store tests: characters are tokens, and the activation of a token
// encodes (token id, position in window, 1) so tests can tell which rows were stored.
import { matrix } from '../../../../src/core/tensor';
import type { ActivationModel } from '../../../../src/core/store/types';

export interface FakeModel extends ActivationModel {
  calls: number;
}

export function fakeModel(contextLength = 8, dim = 4, id = 'fake-model-v1'): FakeModel {
  const model: FakeModel = {
    id,
    contextLength,
    separatorId: 0,
    calls: 0,
    siteDim(site: string) {
      if (site !== 'blocks.0.hook_resid_post') throw new Error(`unknown site ${site}`);
      return dim;
    },
    tokenize(text: string) {
      return Int32Array.from(text, (c) => c.charCodeAt(0));
    },
    async activations(ids: Int32Array, batch: number) {
      model.calls++;
      const out = matrix(batch * contextLength, dim);
      for (let r = 0; r < batch * contextLength; r++) {
        out.data[r * dim] = ids[r];
        out.data[r * dim + 1] = r % contextLength;
        out.data[r * dim + 2] = 1;
      }
      return out;
    },
  };
  return model;
}
