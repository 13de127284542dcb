// A fixed dense layer y = x·W (+ b) run by ONNX Runtime: its GEMM is an order of magnitude faster than a
// JavaScript loop, which matters for an SAE encoder applied on every analysis request.
import * as ort from 'onnxruntime-node';
import { matrix, type Matrix } from '../tensor';
import { encodeModel, onnx } from './onnxProto';
import { OrtSession } from './session';

export interface DenseLayer {
  readonly inputs: number;
  readonly outputs: number;
  /** x [n, inputs] → [n, outputs]. */
  apply(x: Matrix): Promise<Matrix>;
  dispose(): Promise<void>;
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function floatInit(name: string, data: Float32Array, dims: number[]): onnx.ITensorProto {
  return { name, dataType: FLOAT, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** weight [inputs, outputs] row-major; bias [outputs] or none. */
export async function createDenseLayer(weight: Matrix, bias?: Float32Array, options: { intraOpThreads?: number } = {}): Promise<DenseLayer> {
  const { rows: inputs, cols: outputs } = weight;
  if (bias && bias.length !== outputs) throw new Error(`dense layer: bias has ${bias.length} values, expected ${outputs}`);
  const io = (name: string, width: number): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'n' }, { dimValue: width }] } } },
  });
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'feature-lens',
    graph: {
      name: 'dense',
      node: [{ opType: 'Gemm', input: bias ? ['x', 'W', 'b'] : ['x', 'W'], output: ['y'] }],
      initializer: [floatInit('W', weight.data, [inputs, outputs]), ...(bias ? [floatInit('b', bias, [outputs])] : [])],
      input: [io('x', inputs)],
      output: [io('y', outputs)],
    },
  };
  const session = await OrtSession.create(encodeModel(model), `dense layer ${inputs}×${outputs}`, {
    intraOpThreads: options.intraOpThreads ?? 2,
    graphOptimization: 'all',
  });
  return {
    inputs,
    outputs,
    async apply(x) {
      if (x.cols !== inputs) throw new Error(`dense layer: input width ${x.cols}, expected ${inputs}`);
      if (x.rows === 0) return matrix(0, outputs);
      const out = await session.run({ x: new ort.Tensor('float32', x.data, [x.rows, inputs]) }, ['y']);
      return matrix(x.rows, outputs, out.y.data as Float32Array);
    },
    dispose: () => session.release(),
  };
}
