// torch.save files (a zip holding data.pkl plus one raw little-endian file per storage), read through
// the restricted unpickler: tensors only, strides honoured, every size checked against the archive.

import { DTYPE_BYTES, toFloat32 } from '../checkpoints/dtypes';
import { checkShape, DEFAULT_LIMITS, formatError, type LoadLimits } from '../checkpoints/limits';
import { PickleDict, restrictedUnpickle, type TensorRef } from './pickle';
import { readZip } from './zip';

export interface TorchTensor {
  readonly shape: number[];
  readonly data: Float32Array;
}

export function readTorchStateDict(bytes: Uint8Array, where: string, limits: LoadLimits = DEFAULT_LIMITS): Map<string, TorchTensor> {
  const pkls = readZip(bytes, where, limits, (name) => /^[^/]+\/(data\.pkl|byteorder)$/.test(name));
  const pklNames = [...pkls.keys()].filter((n) => n.endsWith('/data.pkl'));
  if (pklNames.length !== 1) {
    throw formatError(where, 'is not a torch.save zip archive (no single <name>/data.pkl); legacy non-zip .pt files are not supported');
  }
  const prefix = pklNames[0].slice(0, -'data.pkl'.length);
  const byteorder = pkls.get(`${prefix}byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') throw formatError(where, 'big-endian torch archives are not supported');
  const root = restrictedUnpickle(pkls.get(pklNames[0])!, `${where}:data.pkl`, { maxStorageElements: limits.maxTensorElements });
  if (!(root instanceof PickleDict)) throw formatError(where, 'does not hold a state dict (a dict of tensors)');

  const refs = new Map<string, TensorRef>();
  for (const [key, value] of root.entries) {
    if (typeof key === 'string' && typeof value === 'object' && value !== null && 'kind' in value && value.kind === 'tensor') refs.set(key, value);
  }
  let total = 0;
  for (const [name, ref] of refs) {
    total += checkShape(`${where}: tensor ${name}`, ref.shape, limits);
    if (total > limits.maxTotalElements) throw formatError(where, 'tensors declare more elements than the limit; refusing to allocate');
  }
  const keys = new Set([...refs.values()].map((r) => r.storage.key));
  const storages = readZip(bytes, where, limits, (name) => name.startsWith(`${prefix}data/`) && keys.has(name.slice(prefix.length + 5)));
  const out = new Map<string, TorchTensor>();
  const converted = new Map<string, Float32Array>();
  for (const [name, ref] of refs) {
    const at = `${where}: tensor ${name}`;
    const { storage } = ref;
    let values = converted.get(storage.key);
    if (!values) {
      const raw = storages.get(`${prefix}data/${storage.key}`);
      if (!raw) throw formatError(at, `storage ${storage.key} is missing from the archive`);
      if (raw.byteLength !== storage.numel * DTYPE_BYTES[storage.dtype]) {
        throw formatError(at, `storage ${storage.key} holds ${raw.byteLength} bytes, not ${storage.numel} × ${storage.dtype}`);
      }
      values = toFloat32(storage.dtype, raw, storage.numel);
      converted.set(storage.key, values);
    }
    out.set(name, { shape: ref.shape, data: gather(at, values, ref) });
  }
  return out;
}

/** Copies a (possibly non-contiguous, e.g. transposed) view out of its storage, bounds-checked. */
function gather(where: string, storage: Float32Array, ref: TensorRef): Float32Array {
  const { shape, stride, offset } = ref;
  const count = shape.reduce((a, b) => a * b, 1);
  if (count === 0) return new Float32Array(0);
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  if (last >= storage.length) throw formatError(where, `view reaches element ${last} of a ${storage.length}-element storage`);
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  if (contiguous) return storage.slice(offset, offset + count);
  const out = new Float32Array(count);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let src = offset;
    for (let d = 0; d < shape.length; d++) src += index[d] * stride[d];
    out[i] = storage[src];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
