// ONNX external data: weights kept beside the .onnx (model.onnx_data; required above 2 GB). The graph is
// read into JavaScript, the weights never are: ONNX Runtime maps them from their files. Edited graphs
// (hook outputs, splice cuts) keep the same external references, so they must sit in a folder where those
// relative locations resolve to the same files (ORT refuses absolute or escaping locations).
import { closeSync, existsSync, linkSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { dimsOf, ModelFileError, onnx, type GraphProto, type ModelProto, type TensorProto } from './onnxProto';

export interface ExternalRef {
  readonly tensor: string;
  /** Location as written in the model (relative to its folder). */
  readonly location: string;
  readonly offset: number;
  readonly length: number;
}

function entry(t: TensorProto, key: string): string | undefined {
  return t.externalData?.find((e) => e.key === key)?.value ?? undefined;
}

function* allInitializers(g: GraphProto): Generator<TensorProto> {
  for (const t of g.initializer ?? []) yield t;
  for (const n of g.node ?? []) for (const a of n.attribute ?? []) for (const sub of [a.g, ...(a.graphs ?? [])]) if (sub) yield* allInitializers(sub);
}

const BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/** Every initializer stored outside the .onnx file. */
export function externalRefs(model: ModelProto): ExternalRef[] {
  const out: ExternalRef[] = [];
  if (!model.graph) return out;
  for (const t of allInitializers(model.graph)) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const location = entry(t, 'location') ?? '';
    const offset = Number(entry(t, 'offset') ?? 0);
    const stated = entry(t, 'length');
    const length = stated !== undefined ? Number(stated) : dimsOf(t).reduce((a, b) => a * b, 1) * (BYTES[t.dataType ?? 0] ?? 0);
    out.push({ tensor: t.name ?? '', location, offset, length });
  }
  return out;
}

/** Bytes of weights a model holds: inline initializers plus external data. */
export function weightBytes(model: ModelProto): number {
  let total = 0;
  if (!model.graph) return 0;
  for (const t of allInitializers(model.graph)) {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) continue;
    total += t.rawData?.length ?? 0;
    total += ((t.floatData?.length ?? 0) + (t.int32Data?.length ?? 0)) * 4 + ((t.int64Data?.length ?? 0) + (t.doubleData?.length ?? 0)) * 8;
  }
  for (const r of externalRefs(model)) total += r.length;
  return total;
}

/**
 * Check that every external data file exists inside the model's folder and is long enough for the
 * tensors read from it. Returns the distinct locations. Problems name the data file.
 */
export function checkExternalData(refs: readonly ExternalRef[], modelFile: string): string[] {
  const dir = dirname(modelFile);
  const sizes = new Map<string, number>();
  for (const r of refs) {
    const norm = normalize(r.location);
    if (!r.location || isAbsolute(r.location) || norm.startsWith('..')) {
      throw new ModelFileError(modelFile, `initializer "${r.tensor}" has external data at "${r.location}", outside the model's folder`);
    }
    const file = join(dir, norm);
    let size = sizes.get(norm);
    if (size === undefined) {
      if (!existsSync(file)) {
        throw new ModelFileError(file, `external data file is missing (initializer "${r.tensor}" of ${modelFile} is stored there): copy it next to the model`);
      }
      size = statSync(file).size;
      sizes.set(norm, size);
    }
    if (r.offset + r.length > size) {
      throw new ModelFileError(
        file,
        `external data file is truncated: it holds ${size} bytes but initializer "${r.tensor}" of ${modelFile} needs bytes ${r.offset}..${r.offset + r.length}`,
      );
    }
  }
  return [...sizes.keys()];
}

/**
 * A folder where an edited copy of the model can be written so that its external locations resolve to
 * the original files: hard links to them in `dir` (no copy; same file system only). Falls back to the
 * model's own folder when links cannot be made there. Returns the folder to write edited models into.
 */
export function externalDataHome(modelFile: string, locations: readonly string[], dir: string): string {
  const modelDir = dirname(modelFile);
  try {
    mkdirSync(dir, { recursive: true });
    for (const loc of locations) {
      const target = join(dir, loc);
      const source = join(modelDir, loc);
      if (existsSync(target)) {
        const [a, b] = [statSync(target), statSync(source)];
        if (a.ino === b.ino && a.dev === b.dev) continue;
        throw new Error(`${target} exists and is another file`);
      }
      mkdirSync(dirname(target), { recursive: true });
      linkSync(source, target);
    }
    return dir;
  } catch {
    // Cross-device or not permitted: edited models go beside the original, if that folder is writable.
    try {
      const probe = join(modelDir, `.feature-lens-write-test-${process.pid}`);
      closeSync(openSync(probe, 'w'));
      statSync(probe);
      rmSync(probe);
      return modelDir;
    } catch {
      throw new ModelFileError(
        modelFile,
        `the model keeps its weights in external data (${locations.join(', ')}); hooking it needs an edited copy of the graph ` +
          `in a folder on the same drive (${dir} is not) or write access to ${modelDir}${sep}`,
      );
    }
  }
}
