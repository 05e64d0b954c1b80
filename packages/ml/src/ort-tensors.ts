// Conversion between host tensors (TensorData) and onnxruntime tensors, and a checked `run` that names the
// outputs it expected when onnxruntime fails.
import * as ort from 'onnxruntime-node';
import type { AnyTypedArray, DType } from './dtype.js';
import { MlError } from './errors.js';
import type { TensorData } from './tensor-data.js';

const ortTypes: Record<DType, ort.Tensor.Type> = {
  float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', bool: 'bool',
};

export function toOrt(value: TensorData): ort.Tensor {
  return new ort.Tensor(ortTypes[value.dtype], value.data, value.shape);
}

export function fromOrt(value: ort.Tensor): TensorData {
  const dtype = (Object.keys(ortTypes) as DType[]).find((key) => ortTypes[key] === value.type);
  if (dtype === undefined) throw new MlError('RUNTIME_FAILED', `unexpected output tensor type ${value.type}`);
  return { dtype, shape: [...value.dims], data: value.data as AnyTypedArray };
}

/**
 * Runs `session` for `outputs`. Feeds are passed to onnxruntime without a copy; onnxruntime-node 1.30 copies
 * every output into a fresh JavaScript buffer (even into preallocated ones it copies again), so callers that
 * produce large outputs often should produce them less often (see step-loop.ts).
 */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Readonly<Record<string, TensorData>>,
  outputs: readonly string[],
): Promise<Record<string, TensorData>> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, value] of Object.entries(feeds)) ortFeeds[name] = toOrt(value);
  let results: ort.InferenceSession.ReturnType;
  try {
    results = await session.run(ortFeeds, outputs);
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MlError('RUNTIME_FAILED', `onnxruntime failed computing ${outputs.join(', ')}: ${reason}`, { cause: error });
  }
  const out: Record<string, TensorData> = {};
  for (const name of outputs) {
    const value = results[name];
    if (value === undefined) throw new MlError('RUNTIME_FAILED', `onnxruntime returned no output '${name}'`);
    out[name] = fromOrt(value);
  }
  return out;
}
