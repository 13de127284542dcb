// Files come from the internet: every size a file declares is checked against these bounds before
// anything is allocated, so a lying header fails with a message instead of exhausting memory.

export interface LoadLimits {
  /** Largest d_in / d_sae / any single dimension accepted. */
  readonly maxDim: number;
  /** Largest number of elements in one tensor. */
  readonly maxTensorElements: number;
  /** Largest number of elements over all tensors of one file. */
  readonly maxTotalElements: number;
  /** Largest file read whole into memory (zip archives: npz, torch .pt). */
  readonly maxFileBytes: number;
  /** Largest safetensors JSON header. */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_LIMITS: LoadLimits = {
  maxDim: 1 << 24,
  maxTensorElements: 1 << 30,
  maxTotalElements: 1.5 * (1 << 30),
  maxFileBytes: 8 * 2 ** 30,
  maxHeaderBytes: 100 * 2 ** 20,
};

/** A file that is malformed, dishonest or too large. The message says which and why. */
export class CheckpointFormatError extends Error {
  override readonly name = 'CheckpointFormatError';
}

export function formatError(where: string, message: string): CheckpointFormatError {
  return new CheckpointFormatError(`${where}: ${message}`);
}

/** Validates a declared shape and returns its element count, refusing absurd dimensions. */
export function checkShape(where: string, shape: unknown, limits: LoadLimits): number {
  if (!Array.isArray(shape)) throw formatError(where, `shape must be an array, got ${JSON.stringify(shape)}`);
  let count = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw formatError(where, `shape ${JSON.stringify(shape)} has an invalid dimension ${JSON.stringify(dim)}`);
    }
    if (dim > limits.maxDim) {
      throw formatError(where, `shape ${JSON.stringify(shape)}: dimension ${dim} exceeds the limit ${limits.maxDim}`);
    }
    count *= dim;
    if (count > limits.maxTensorElements) {
      throw formatError(
        where,
        `shape ${JSON.stringify(shape)} declares more than ${limits.maxTensorElements} elements; refusing to allocate`,
      );
    }
  }
  return count;
}

/** Checks the SAE dimensions a config declares, before any tensor is read. */
export function checkSaeDims(where: string, dIn: unknown, dSae: unknown, limits: LoadLimits): { dIn: number; dSae: number } {
  for (const [name, v] of [
    ['d_in', dIn],
    ['d_sae', dSae],
  ] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      throw formatError(where, `${name} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    if (v > limits.maxDim) throw formatError(where, `${name} = ${v} exceeds the limit ${limits.maxDim}`);
  }
  const a = dIn as number;
  const b = dSae as number;
  // Encoder and decoder are both d_in × d_sae.
  if (2 * a * b > limits.maxTotalElements) {
    throw formatError(
      where,
      `d_in ${a} × d_sae ${b} needs ${((8 * a * b) / 2 ** 30).toFixed(1)} GiB of float32 weights, over the limit; refusing to allocate`,
    );
  }
  return { dIn: a, dSae: b };
}
